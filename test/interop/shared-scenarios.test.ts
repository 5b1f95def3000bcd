/**
 * The team's acceptance scenarios (../shared/interop/): kcat, confluent-kafka-python, kafka-python and kafkajs
 * each list brokers, create topics, produce 1000 keyed records with acks=all, consume them in a group exactly
 * once, commit and resume, round-trip compression codecs, look up offsets by timestamp, and delete topics.
 * The folder is copied somewhere writable and its clients installed (npm) before the run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrokerProcess, REPO_ROOT, removeDir, startBrokerProcess, tempDir } from '../helpers/broker-process.js';

const SOURCE = process.env.SLUICE_INTEROP_DIR ?? join(REPO_ROOT, '..', 'shared', 'interop');

let broker: BrokerProcess | undefined;
let work = '';

before(async () => {
  if (!existsSync(SOURCE)) return;
  broker = await startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } });
  work = tempDir('sluice-interop-');
  cpSync(SOURCE, join(work, 'interop'), { recursive: true });
  spawnSync('chmod', ['-R', 'u+w', work]);
});

after(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  if (work) removeDir(work);
});

test('every client scenario in ../shared/interop passes against Sluice', { timeout: 900_000 }, (t) => {
  if (!existsSync(SOURCE)) {
    t.skip(`the shared scenarios are not at ${SOURCE}; set SLUICE_INTEROP_DIR to run them`);
    return;
  }
  const dir = join(work, 'interop');
  const install = spawnSync('bash', [join(dir, 'install-clients.sh'), '--no-apt'], { encoding: 'utf8' });
  assert.equal(install.status, 0, `installing the scenario clients failed:\n${install.stdout}\n${install.stderr}`);
  const run = spawnSync('bash', [join(dir, 'run-all.sh'), broker!.bootstrap], {
    encoding: 'utf8',
    env: { ...process.env, INTEROP_SCENARIO_TIMEOUT: '240', INTEROP_LOG_DIR: join(work, 'logs') },
  });
  const lines = run.stdout.trim().split('\n');
  for (const line of lines) t.diagnostic(line);
  const summary = lines[lines.length - 1];
  assert.match(summary, /^\d+ passed, 0 failed$/, `scenarios failed:\n${run.stdout}\n${run.stderr}`);
  for (const client of ['kcat', 'confluent-py', 'kafka-python', 'kafkajs']) {
    assert.match(run.stdout, new RegExp(`^${client}: [1-9]\\d* passed, 0 failed$`, 'm'), `${client} ran and passed`);
  }
  assert.equal(run.status, 0);
});

/**
 * cleanup.policy=compact works (the log cleaner compacts), so creating or altering a compacted topic is
 * as quiet as any other: no warning from `sluice topic`, none in the broker log.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BrokerProcess, REPO_ROOT, startBrokerProcess, stopAndRemove } from '../../helpers/broker-process.js';
import { run } from '../../helpers/clients.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');
let broker: BrokerProcess;

before(async () => {
  broker = await startBrokerProcess();
});

after(async () => {
  await stopAndRemove(broker);
});

const sluice = (args: string[]) => run(process.execPath, [BIN, ...args, '-b', broker.bootstrap], { timeoutMs: 30_000 });

/** The broker's warn lines about a topic. */
function brokerWarnings(topic: string): string[] {
  return broker
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":"warn"') && l.includes(`"topic":"${topic}"`));
}

test('creating a compacted topic succeeds without a warning from the command or the broker', async () => {
  const r = await sluice(['topic', 'create', 'compacted', '-c', 'cleanup.policy=compact']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created: compacted/);
  assert.equal(r.stderr, '');
  // The broker logs the creation; a warning would have been written before or with it.
  for (let i = 0; i < 100 && !broker.output().includes('"topic":"compacted"'); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(brokerWarnings('compacted'), []);
});

test('altering a topic to compact,delete is as quiet', async () => {
  assert.equal((await sluice(['topic', 'create', 'plain'])).code, 0);
  const r = await sluice(['topic', 'alter', 'plain', '-c', 'cleanup.policy=compact,delete']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  for (let i = 0; i < 100 && !broker.output().includes('changed topic configs'); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(brokerWarnings('plain'), []);
});

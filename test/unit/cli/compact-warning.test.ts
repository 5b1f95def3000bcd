/**
 * cleanup.policy=compact is accepted but no cleaner runs yet: the broker's log and `sluice topic` both say
 * so, since Kafka's CreateTopics and AlterConfigs answers have no room for a warning beside success.
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

/** The broker's warn lines about a topic, waiting a little for its stdout to arrive. */
async function brokerWarnings(topic: string): Promise<string[]> {
  const find = () =>
    broker
      .output()
      .split('\n')
      .filter((l) => l.includes('"level":"warn"') && l.includes(`"topic":"${topic}"`));
  for (let i = 0; i < 100 && find().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  return find();
}

test('creating a compacted topic succeeds with a warning from the command and in the broker log', async () => {
  const r = await sluice(['topic', 'create', 'compacted', '-c', 'cleanup.policy=compact']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /created: compacted/);
  assert.match(r.stderr, /warning: cleanup\.policy=compact .*no log cleaner/);
  const logged = await brokerWarnings('compacted');
  assert.equal(logged.length, 1, broker.output());
  assert.match(logged[0], /no log cleaner/);
});

test('altering a topic to compact,delete warns the same way; a plain topic warns nowhere', async () => {
  const created = await sluice(['topic', 'create', 'plain']);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stderr, '');
  const r = await sluice(['topic', 'alter', 'plain', '-c', 'cleanup.policy=compact,delete']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: cleanup\.policy=compact/);
  const logged = await brokerWarnings('plain');
  assert.equal(logged.length, 1, broker.output());
});

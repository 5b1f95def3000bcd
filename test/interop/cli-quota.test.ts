/**
 * `sluice quota describe|alter` run as the real CLI against a Sluice broker process and against Apache
 * Kafka (the peer): the same commands give the same entries on both. Kafka applies quota alterations
 * through its metadata log, after answering, so the scenario polls describe until a change shows.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrokerProcess, REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { type RunResult, run } from '../helpers/clients.js';
import { type KafkaPeer, kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');

interface EntryJson {
  entity: Record<string, string | null>;
  values: Record<string, number>;
}

const jsonLines = <T>(r: RunResult): T[] =>
  r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

/** The CLI against `bootstrap`. */
const cli = (bootstrap: string) => (args: string[]) =>
  run(process.execPath, [BIN, 'quota', ...args, '-b', bootstrap], { timeoutMs: 30_000 });

/** Runs describe until `check` accepts its entries (Kafka shows an alteration a moment after answering). */
async function describeUntil(
  sluice: ReturnType<typeof cli>,
  args: string[],
  check: (entries: EntryJson[]) => boolean,
): Promise<EntryJson[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await sluice(['describe', ...args, '-f', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const entries = jsonLines<EntryJson>(r);
    if (check(entries)) return entries;
    if (Date.now() > deadline) assert.fail(`describe ${args.join(' ')} never showed the change: ${r.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The same commands and the same expectations, for a Sluice broker and for Kafka. */
async function quotaScenario(bootstrap: string): Promise<void> {
  const sluice = cli(bootstrap);
  const set = await sluice([
    'alter',
    '--user',
    'alice',
    '--client-id',
    'app',
    '--add-config',
    'producer_byte_rate=1048576,consumer_byte_rate=2097152,request_percentage=50',
  ]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /Updated: quotas of user "alice", client-id "app": producer_byte_rate=1048576/);
  assert.equal((await sluice(['alter', '--client-defaults', '-a', 'producer_byte_rate=10485760'])).code, 0);
  assert.equal((await sluice(['alter', '--ip-defaults', '-a', 'connection_creation_rate=1000'])).code, 0);

  const all = await describeUntil(sluice, [], (e) => e.length === 3);
  // Sorted by user, client id, ip; an absent type first, then the default, then names.
  assert.deepEqual(all, [
    { entity: { ip: null }, values: { connection_creation_rate: 1000 } },
    { entity: { 'client-id': null }, values: { producer_byte_rate: 10485760 } },
    {
      entity: { user: 'alice', 'client-id': 'app' },
      values: { producer_byte_rate: 1048576, consumer_byte_rate: 2097152, request_percentage: 50 },
    },
  ]);

  // As kafka-configs.sh: naming the user alone lists the user's own quotas, not those of its client ids.
  const own = await sluice(['describe', '--user', 'alice', '-f', 'json']);
  assert.equal(own.code, 0, own.stderr);
  assert.deepEqual(jsonLines(own), []);
  const both = await sluice(['describe', '--user', 'alice', '--client-id', 'app']);
  assert.equal(both.code, 0, both.stderr);
  assert.match(
    both.stdout.trimEnd(),
    /^USER +CLIENT-ID +IP +QUOTAS\nalice +app +- +consumer_byte_rate=2097152, producer_byte_rate=1048576, request_percentage=50$/,
  );

  const removed = await sluice([
    'alter',
    '--user',
    'alice',
    '--client-id',
    'app',
    '--delete-config',
    'producer_byte_rate',
  ]);
  assert.equal(removed.code, 0, removed.stderr);
  await describeUntil(
    sluice,
    ['--user', 'alice', '--client-id', 'app'],
    (e) => e.length === 1 && !('producer_byte_rate' in e[0].values) && e[0].values.consumer_byte_rate === 2097152,
  );

  const unknownKey = await sluice(['alter', '--user', 'alice', '-a', 'no_such_rate=1']);
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /^sluice quota: INVALID_REQUEST: quotas of user "alice": .*no_such_rate/);
  const badValue = await sluice(['alter', '--user', 'alice', '-a', 'producer_byte_rate=-5']);
  assert.equal(badValue.code, 1);
  assert.match(badValue.stderr, /INVALID_REQUEST/);
}

describe('sluice quota against a Sluice broker and against Kafka', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBrokerProcess();
  });

  after(async () => {
    await stopAndRemove(broker);
  });

  test('alter sets and removes quota values that describe then lists, on Sluice', async () => {
    await quotaScenario(broker.bootstrap);
  });

  test('alter sets and removes quota values that describe then lists, on Kafka', async (t) => {
    if (kafkaPeerOrSkip(t)) return;
    let peer: KafkaPeer | undefined;
    try {
      peer = await startKafkaPeer();
      await quotaScenario(peer.bootstrap);
    } finally {
      await peer?.stop();
    }
  });

  test('usage mistakes exit 2 with the reason in words', async () => {
    const sluice = cli(broker.bootstrap);
    const cases: Array<[string[], RegExp]> = [
      [['alter', '-a', 'producer_byte_rate=1'], /name the entity/],
      [['alter', '--user', 'alice'], /nothing to change/],
      [['alter', '--user', 'alice', '--user-defaults', '-a', 'producer_byte_rate=1'], /two different entities/],
      [
        ['alter', '--ip', '10.0.0.1', '--user', 'alice', '-a', 'connection_creation_rate=1'],
        /IP address quota stands alone/,
      ],
      [['alter', '--user', 'alice', '-a', 'producer_byte_rate=fast'], /must be a number, got "fast"/],
      [
        ['alter', '--user', 'alice', '-a', 'producer_byte_rate=1', '-d', 'producer_byte_rate'],
        /both added and deleted/,
      ],
      [['describe', '--user', ''], /use --user-defaults for the default/],
      [['frobnicate'], /unknown action "frobnicate"/],
    ];
    for (const [args, reason] of cases) {
      const r = await sluice(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, reason);
    }
  });

  test('--help lists the options with examples, as shell completion reads them', async () => {
    const r = await run(process.execPath, [BIN, 'quota', 'alter', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^ {2}-a, --add-config K=V\[,K=V…\] {2,}/m);
    assert.match(r.stdout, /^ {2}--client-defaults {2,}/m);
    assert.match(r.stdout, /examples:\n {2}sluice quota alter --user alice --client-id app/);
  });
});

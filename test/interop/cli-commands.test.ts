/**
 * Every `sluice` client subcommand against a broker process, with kcat on the other side: records written
 * by `sluice produce` are read by kcat and records written by kcat are read by `sluice consume`; keys land
 * on the partitions librdkafka's Java-compatible murmur2 partitioner picks.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { partitionForKey } from '../../src/client/partitioner.js';
import { type BrokerProcess, REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { kcat, type RunResult, run } from '../helpers/clients.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');

interface JsonRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Array<{ key: string; value: string | null }>;
}

const jsonLines = (r: RunResult) =>
  r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonRecord);

describe('the sluice command against a running broker', { concurrency: true }, () => {
  let broker: BrokerProcess;
  const sluice = (args: string[], input?: string) =>
    run(process.execPath, [BIN, ...args, '-b', broker.bootstrap], { input, timeoutMs: 30_000 });

  before(async () => {
    broker = await startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } });
  });

  after(async () => {
    await stopAndRemove(broker);
  });

  test('help, unknown commands and bad options give exit codes 0, 2 and 2', async () => {
    for (const args of [
      ['--help'],
      ['topic', '--help'],
      ['topic', 'create', '--help'],
      ['produce', '--help'],
      ['consume', '-h'],
      ['group', 'reset-offsets', '--help'],
    ]) {
      const r = await run(process.execPath, [BIN, ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /usage: sluice/);
      if (args.length > 1 && args[0] !== '--help') assert.match(r.stdout, /examples:/, args.join(' '));
    }
    assert.match((await run(process.execPath, [BIN, 'topic', 'create', '--help'])).stdout, /--replication-factor/);
    const unknown = await run(process.execPath, [BIN, 'frobnicate']);
    assert.equal(unknown.code, 2);
    const badOption = await sluice(['topic', 'create', 'x', '--partitions', 'many']);
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /--partitions expects an integer/);
    const unknownOption = await sluice(['produce', '-t', 'x', '--no-such-flag']);
    assert.equal(unknownOption.code, 2);
  });

  test('an unreachable broker is one line on stderr and exit code 1', async () => {
    const r = await run(process.execPath, [BIN, 'topic', 'list', '-b', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /connection refused/);
  });

  test('topic create, list, describe, alter and delete', async () => {
    let r = await sluice(['topic', 'create', 'cli-topic', '-p', '2', '-c', 'retention.ms=3600000']);
    assert.equal(r.code, 0, r.stderr);
    r = await sluice(['topic', 'create', 'cli-topic']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TOPIC_ALREADY_EXISTS/);
    assert.equal((await sluice(['topic', 'create', 'cli-topic', '--if-not-exists'])).code, 0);
    r = await sluice(['topic', 'create', 'bad-config', '-c', 'retention.ms=soon']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INVALID_CONFIG/);

    r = await sluice(['topic', 'list', '--format', 'json']);
    assert.ok((JSON.parse(r.stdout) as string[]).includes('cli-topic'), r.stdout);

    r = await sluice(['topic', 'describe', 'cli-topic']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Partitions: 2/);
    assert.match(r.stdout, /retention\.ms=3600000/);

    r = await sluice(['topic', 'alter', 'cli-topic', '-c', 'cleanup.policy=compact', '-d', 'retention.ms', '-p', '4']);
    assert.equal(r.code, 0, r.stderr);
    r = await sluice(['topic', 'describe', 'cli-topic', '--all-configs', '--format', 'json']);
    const described = JSON.parse(r.stdout) as {
      partitions: unknown[];
      configs: Array<{ name: string; value: string; source: string }>;
    };
    assert.equal(described.partitions.length, 4);
    const config = (name: string) => described.configs.find((c) => c.name === name);
    assert.deepEqual(config('cleanup.policy'), {
      name: 'cleanup.policy',
      value: 'compact',
      source: 'TOPIC_CONFIG',
      readOnly: false,
    });
    assert.equal(config('retention.ms')?.source, 'DEFAULT_CONFIG');

    r = await sluice(['topic', 'alter', 'cli-topic', '-p', '3']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INVALID_PARTITIONS/);

    assert.equal((await sluice(['topic', 'delete', 'cli-topic'])).code, 0);
    assert.equal((await sluice(['topic', 'describe', 'cli-topic'])).code, 1);
    assert.equal((await sluice(['topic', 'delete', 'cli-topic'])).code, 1);
    assert.equal((await sluice(['topic', 'delete', 'cli-topic', '--if-exists'])).code, 0);
  });

  test('records from sluice produce are read back by kcat with keys and headers', async () => {
    assert.equal((await sluice(['topic', 'create', 'to-kcat', '-p', '1'])).code, 0);
    const r = await sluice(
      ['produce', '-t', 'to-kcat', '-k', ':', '-H', 'source=cli', '-H', 'n=1', '--acks', '1', '-z', 'lz4'],
      'a:first\nb:second\n\nno key here\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /produced 3 records/);
    const read = await kcat(broker.bootstrap, [
      '-C',
      '-t',
      'to-kcat',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k|%s|%h\n',
    ]);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(read.stdout.trim().split('\n'), [
      'a|first|source=cli,n=1',
      'b|second|source=cli,n=1',
      '|no key here|source=cli,n=1',
    ]);
  });

  test('records from kcat are printed by sluice consume, as text and as JSON lines', async () => {
    assert.equal((await sluice(['topic', 'create', 'from-kcat', '-p', '1'])).code, 0);
    const lines = Array.from({ length: 20 }, (_, i) => `k${i}=v${i}`).join('\n');
    const p = await kcat(broker.bootstrap, ['-P', '-t', 'from-kcat', '-K', '=', '-H', 'via=kcat', '-z', 'snappy'], {
      input: `${lines}\n`,
    });
    assert.equal(p.code, 0, p.stderr);

    let r = await sluice(['consume', '-t', 'from-kcat', '--from-beginning', '-e', '-f', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const records = jsonLines(r);
    assert.equal(records.length, 20);
    assert.deepEqual(
      { ...records[3], timestamp: 0 },
      {
        topic: 'from-kcat',
        partition: 0,
        offset: 3,
        timestamp: 0,
        key: 'k3',
        value: 'v3',
        headers: [{ key: 'via', value: 'kcat' }],
      },
    );
    assert.ok(records[0].timestamp > 1_600_000_000_000);

    r = await sluice(['consume', '-t', 'from-kcat', '-o', '15', '-e', '--print-key', '--key-separator', '=']);
    assert.deepEqual(r.stdout.trim().split('\n'), ['k15=v15', 'k16=v16', 'k17=v17', 'k18=v18', 'k19=v19']);
    r = await sluice(['consume', '-t', 'from-kcat', '--offset=-2', '-e']);
    assert.deepEqual(r.stdout.trim().split('\n'), ['v18', 'v19']);
    r = await sluice(['consume', '-t', 'from-kcat', '--from-beginning', '-n', '3', '-p', '0']);
    assert.deepEqual(r.stdout.trim().split('\n'), ['v0', 'v1', 'v2']);
    r = await sluice(['consume', '-t', 'from-kcat', '--timestamp', String(records[0].timestamp + 10 ** 9), '-e']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'nothing at or after a future timestamp');
    r = await sluice(['consume', '-t', 'from-kcat', '--timestamp', String(records[0].timestamp), '-e', '-n', '1']);
    assert.equal(r.stdout.trim(), 'v0');
    r = await sluice(['consume', '-t', 'from-kcat', '--from-beginning', '-o', '3']);
    assert.equal(r.code, 2, 'two starting points');
  });

  test('keyed records land on the partitions librdkafka’s murmur2 partitioner picks', async () => {
    assert.equal((await sluice(['topic', 'create', 'keys-kcat', 'keys-sluice', '-p', '7'])).code, 0);
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i * 7919}`);
    const input = `${keys.map((k) => `${k}:x`).join('\n')}\n`;
    const p = await kcat(
      broker.bootstrap,
      ['-P', '-t', 'keys-kcat', '-K', ':', '-X', 'topic.partitioner=murmur2_random'],
      { input },
    );
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await sluice(['produce', '-t', 'keys-sluice', '-k', ':'], input)).code, 0);
    const placement = async (topic: string) => {
      const r = await sluice(['consume', '-t', topic, '--from-beginning', '-e', '-f', 'json']);
      return new Map(jsonLines(r).map((rec) => [rec.key, rec.partition]));
    };
    const byKcat = await placement('keys-kcat');
    const bySluice = await placement('keys-sluice');
    assert.equal(byKcat.size, keys.length);
    for (const k of keys) {
      assert.equal(bySluice.get(k), byKcat.get(k), k);
      assert.equal(partitionForKey(k, 7), byKcat.get(k), k);
    }
    assert.ok(new Set(byKcat.values()).size > 3, 'keys spread over partitions');
  });

  test('group consume, list, describe with lag, and reset-offsets (dry run, refused while active, executed)', async () => {
    assert.equal((await sluice(['topic', 'create', 'grp-topic', '-p', '3'])).code, 0);
    const lines = Array.from({ length: 30 }, (_, i) => `k${i}:v${i}`).join('\n');
    assert.equal((await sluice(['produce', '-t', 'grp-topic', '-k', ':'], lines)).code, 0);

    let r = await sluice(['consume', '-t', 'grp-topic', '-g', 'cli-group', '--from-beginning', '-n', '10']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 10);

    r = await sluice(['group', 'list', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      (JSON.parse(r.stdout) as Array<{ group: string }>).some((g) => g.group === 'cli-group'),
      r.stdout,
    );

    r = await sluice(['group', 'describe', 'cli-group', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const described = JSON.parse(r.stdout) as {
      state: string;
      partitions: Array<{
        partition: number;
        committedOffset: number | null;
        logEndOffset: number;
        lag: number | null;
      }>;
    };
    assert.equal(described.state, 'Empty');
    const totalEnd = described.partitions.reduce((n, p) => n + p.logEndOffset, 0);
    const totalLag = described.partitions.reduce((n, p) => n + (p.lag ?? p.logEndOffset), 0);
    assert.equal(totalEnd, 30);
    assert.equal(totalLag, 20, 'ten records consumed and committed');

    // The rest, then nothing is left.
    r = await sluice(['consume', '-t', 'grp-topic', '-g', 'cli-group', '-e']);
    assert.equal(r.stdout.trim().split('\n').length, 20);

    r = await sluice([
      'group',
      'reset-offsets',
      'cli-group',
      '--topic',
      'grp-topic',
      '--to-earliest',
      '--format',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /dry run/);
    assert.ok(jsonLines(r as RunResult).every((p) => (p as unknown as { newOffset: number }).newOffset === 0));
    r = await sluice(['group', 'describe', 'cli-group', '--format', 'json']);
    assert.ok(
      (JSON.parse(r.stdout) as typeof described).partitions.every((p) => p.lag === 0),
      'dry run changed nothing',
    );

    // A running member blocks the reset; Ctrl-C makes it leave the group.
    const follower = spawn(
      process.execPath,
      [BIN, 'consume', '-t', 'grp-topic', '-g', 'cli-group', '-b', broker.bootstrap],
      {
        stdio: 'ignore',
      },
    );
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    let blocked: RunResult | null = null;
    try {
      for (let i = 0; i < 50 && !blocked; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const attempt = await sluice([
          'group',
          'reset-offsets',
          'cli-group',
          '--all-topics',
          '--to-earliest',
          '--execute',
        ]);
        if (attempt.code === 1) blocked = attempt;
      }
    } finally {
      follower.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends consume with exit code 0');
    assert.ok(blocked, 'reset refused while a member is active');
    assert.match(blocked.stderr, /active member/);

    r = await sluice([
      'group',
      'reset-offsets',
      'cli-group',
      '--topic',
      'grp-topic:0,1',
      '--to-offset',
      '2',
      '--execute',
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = await sluice(['group', 'describe', 'cli-group', '--format', 'json']);
    const after = JSON.parse(r.stdout) as typeof described;
    for (const p of after.partitions) {
      const expected = p.partition === 2 ? p.logEndOffset : Math.min(2, p.logEndOffset);
      assert.equal(p.committedOffset, expected, `partition ${p.partition}`);
    }
    r = await sluice(['group', 'describe', 'no-such-group']);
    assert.equal(r.code, 1);
  });
});

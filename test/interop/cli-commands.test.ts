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
import { jsonLines, kcat, type RunResult, run } from '../helpers/clients.js';

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
    assert.equal(unknownOption.stderr, "sluice produce: unknown option --no-such-flag; see 'sluice produce --help'\n");
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
    r = await sluice(['topic', 'create', 'cli-topic', '--if-not-exists']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'exists: cli-topic (not created)\n', 'an existing topic is not reported as created');
    r = await sluice(['topic', 'create', 'bad-config', '-c', 'retention.ms=soon']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INVALID_CONFIG/);

    r = await sluice(['topic', 'list', '--format', 'json']);
    assert.ok((JSON.parse(r.stdout) as string[]).includes('cli-topic'), r.stdout);

    r = await sluice(['topic', 'describe', 'cli-topic']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Partitions: 2/);
    assert.match(r.stdout, /retention\.ms=3600000/);
    r = await sluice(['topic', 'describe', 'cli-topic', '-f', 'json']);
    const offsets = (JSON.parse(r.stdout) as { partitions: Array<{ logStartOffset: unknown; logEndOffset: unknown }> })
      .partitions[0];
    assert.deepEqual(offsets, { ...offsets, logStartOffset: 0, logEndOffset: 0 }, 'offsets are JSON numbers');

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

    r = await sluice(['topic', 'delete', 'cli-topic']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deleted: cli-topic\n');
    assert.equal((await sluice(['topic', 'describe', 'cli-topic'])).code, 1);
    assert.equal((await sluice(['topic', 'delete', 'cli-topic'])).code, 1);
    r = await sluice(['topic', 'delete', 'cli-topic', '--if-exists']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'not found: cli-topic (nothing deleted)\n', 'a missing topic is not reported as deleted');
  });

  test('topic create and delete say per topic what happened, also as JSON lines', async () => {
    assert.equal((await sluice(['topic', 'create', 'json-old'])).code, 0);
    let r = await sluice(['topic', 'create', 'json-old', 'json-new', '--if-not-exists', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r), [
      { name: 'json-old', outcome: 'exists' },
      { name: 'json-new', outcome: 'created' },
    ]);
    r = await sluice(['topic', 'create', 'json-new', '-f', 'json']);
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout), {
      name: 'json-new',
      error: 'TOPIC_ALREADY_EXISTS',
      message: "Topic 'json-new' already exists.",
    });
    r = await sluice(['topic', 'delete', 'json-old', 'json-gone', '--if-exists', '-f', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r), [
      { name: 'json-old', outcome: 'deleted' },
      { name: 'json-gone', outcome: 'not-found' },
    ]);
  });

  test('records from sluice produce are read back by kcat with keys and headers', async () => {
    assert.equal((await sluice(['topic', 'create', 'to-kcat', '-p', '1'])).code, 0);
    const r = await sluice(
      ['produce', '-t', 'to-kcat', '-K', ':', '-H', 'source=cli', '-H', 'n=1', '--acks', '1', '-z', 'lz4'],
      'a:first\nb:second\n\nno key here\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /produced 3 records/);
    assert.match(r.stderr, /1 line had no ":" and was sent without a key/);
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
    const records = jsonLines<JsonRecord>(r);
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
    assert.equal((await sluice(['produce', '-t', 'keys-sluice', '-K', ':'], input)).code, 0);
    const placement = async (topic: string) => {
      const r = await sluice(['consume', '-t', topic, '--from-beginning', '-e', '-f', 'json']);
      return new Map(jsonLines<JsonRecord>(r).map((rec) => [rec.key, rec.partition]));
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

  test('sluice consume prints a kcat format string byte for byte as kcat does', async () => {
    assert.equal((await sluice(['topic', 'create', 'fmt', '-p', '2'])).code, 0);
    // Into partition 0 itself: librdkafka places a null key at random, so unpinned records may all land on 1.
    const p = await kcat(broker.bootstrap, ['-P', '-t', 'fmt', '-p', '0', '-K', '=', '-H', 'a=1', '-H', 'b=two'], {
      input: 'k1=v1\nno key\nk2=\n=empty key\n',
    });
    assert.equal(p.code, 0, p.stderr);
    for (const format of ['%t %p %o %T %k %s %h\\n', '%k(%K)|%s(%S)\\t%%\\x41\\n', '%R%s']) {
      const theirs = await kcat(broker.bootstrap, [
        '-C',
        '-t',
        'fmt',
        '-p',
        '0',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        format,
      ]);
      const ours = await sluice(['consume', '-t', 'fmt', '-p', '0', '--from-beginning', '-e', '-f', format]);
      assert.equal(ours.code, 0, ours.stderr);
      assert.ok(theirs.stdout.length > 0, theirs.stderr);
      assert.equal(ours.stdout, theirs.stdout, format);
    }
  });

  test('produce -k gives every record that key; -K splits each line at a separator', async () => {
    assert.equal((await sluice(['topic', 'create', 'const-key', '-p', '3'])).code, 0);
    let r = await sluice(['produce', '-t', 'const-key', '-k', 'customer-42'], 'one\ntwo\nthree\n');
    assert.equal(r.code, 0, r.stderr);
    const read = await kcat(broker.bootstrap, [
      '-C',
      '-t',
      'const-key',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%p %k %s\\n',
    ]);
    const partition = partitionForKey('customer-42', 3);
    assert.deepEqual(read.stdout.trim().split('\n'), [
      `${partition} customer-42 one`,
      `${partition} customer-42 two`,
      `${partition} customer-42 three`,
    ]);
    r = await sluice(['produce', '-t', 'const-key', '-k', 'a', '-K', ':'], 'x\n');
    assert.equal(r.code, 2, 'a constant key and a separator are one choice');
    r = await sluice(['produce', '-t', 'const-key', '-f', 'lines.txt'], 'x\n');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /to read a file use --file/);
  });

  test("produce takes JSON lines with keys, headers, partitions and timestamps; consume's JSON lines replay", async () => {
    assert.equal((await sluice(['topic', 'create', 'json-in', 'json-copy', '-p', '2'])).code, 0);
    const input = [
      '{"key":"k1","value":"v1","headers":{"h":"x"},"partition":1,"timestamp":1700000000000}',
      '{"value":{"id":7},"headers":[{"key":"n","value":null}]}',
      '{"key":null,"value":null,"partition":0}',
    ].join('\n');
    let r = await sluice(['produce', '-t', 'json-in', '-f', 'json', '-k', 'fallback', '-H', 'all=1'], input);
    assert.equal(r.code, 0, r.stderr);
    const format = ['-o', 'beginning', '-e', '-q', '-f', '%p %T %k|%s|%h\\n'];
    const read = await kcat(broker.bootstrap, ['-C', '-t', 'json-in', ...format]);
    const lines = read.stdout.trim().split('\n').sort();
    assert.equal(lines.length, 3, read.stdout);
    assert.ok(lines.includes('1 1700000000000 k1|v1|all=1,h=x'), read.stdout);
    assert.ok(
      lines.some((l) => / fallback\|\{"id":7\}\|all=1,n=NULL$/.test(l)),
      read.stdout,
    );
    assert.ok(
      lines.some((l) => /^0 \d+ \|\|all=1$/.test(l)),
      read.stdout,
    );

    const dump = await sluice(['consume', '-t', 'json-in', '--from-beginning', '-e', '-f', 'json']);
    r = await sluice(['produce', '-t', 'json-copy', '-f', 'json'], dump.stdout);
    assert.equal(r.code, 0, r.stderr);
    const copy = await kcat(broker.bootstrap, ['-C', '-t', 'json-copy', ...format]);
    assert.deepEqual(
      copy.stdout.trim().split('\n').sort(),
      lines,
      'same partitions, timestamps, keys, values, headers',
    );

    r = await sluice(['produce', '-t', 'json-in', '-f', 'json'], '{"value":"ok"}\n{"vaule":"typo"}\n');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /line 2: unknown field "vaule"/);
  });

  test('Ctrl-C during produce sends every line read, prints the summary and exits with 130', async () => {
    assert.equal((await sluice(['topic', 'create', 'interrupted', '-p', '1'])).code, 0);
    // Records wait for a batch of two or a linger of ten minutes: the third is sent only by the Ctrl-C.
    const child = spawn(
      process.execPath,
      [BIN, 'produce', '-t', 'interrupted', '--batch-size', '2', '--linger-ms', '600000', '-b', broker.bootstrap],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.write('one\ntwo\nthree\n');
    const count = async () =>
      (await kcat(broker.bootstrap, ['-C', '-t', 'interrupted', '-o', 'beginning', '-e', '-q'])).stdout
        .split('\n')
        .filter((l) => l !== '').length;
    // The first two went out as a full batch; the third was read in the same chunk and waits.
    for (let i = 0; i < 100 && (await count()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /produced 3 records to interrupted in [\d.]+ s \(stopped by SIGINT\)/);
    assert.equal(await count(), 3);
  });

  test('group consume, list, describe with lag, and reset-offsets (dry run, refused while active, executed)', async () => {
    assert.equal((await sluice(['topic', 'create', 'grp-topic', '-p', '3'])).code, 0);
    const lines = Array.from({ length: 30 }, (_, i) => `k${i}:v${i}`).join('\n');
    assert.equal((await sluice(['produce', '-t', 'grp-topic', '-K', ':'], lines)).code, 0);

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
    // One line per partition of the plan: an empty plan must not pass as "every offset is reset to 0".
    const plan = jsonLines<{ newOffset: number }>(r);
    assert.equal(plan.length, 3, r.stdout);
    assert.ok(
      plan.every((p) => p.newOffset === 0),
      r.stdout,
    );
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

/**
 * `sluice group` on par with kafka-consumer-groups.sh (the reset scenarios with Kafka's clamping, --export and
 * --from-file, describe --all-groups, delete-offsets, errors explained in words) and the introspection
 * commands (`--version`, `cluster info`, `broker config`, `topic describe` of every topic), each run as the
 * real CLI against a broker process; kafkajs checks what the CLI reports and moves a log start.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import {
  type BrokerProcess,
  REPO_ROOT,
  removeDir,
  startBrokerProcess,
  stopAndRemove,
  tempDir,
} from '../helpers/broker-process.js';
import { jsonLines, type RunResult, run } from '../helpers/clients.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface PlanLine {
  topic: string;
  partition: number;
  currentOffset: number | null;
  newOffset: number;
}

interface GroupJson {
  group: string;
  state: string;
  members: unknown[];
  partitions: Array<{ topic: string; partition: number; committedOffset: number | null }>;
}

/** partition → new offset of a reset-offsets plan printed with --format json. */
const newOffsets = (r: RunResult) => Object.fromEntries(jsonLines<PlanLine>(r).map((p) => [p.partition, p.newOffset]));

describe('sluice group tooling and introspection against a running broker', { concurrency: true }, () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  const sluice = (args: string[], input?: string) =>
    run(process.execPath, [BIN, ...args, '-b', broker.bootstrap], { input, timeoutMs: 30_000 });

  /** A topic with `perPartition` records in each of its partitions. */
  async function topicWithRecords(topic: string, partitions: number, perPartition: number): Promise<void> {
    assert.equal((await sluice(['topic', 'create', topic, '-p', String(partitions)])).code, 0);
    const lines = Array.from({ length: perPartition }, (_, i) => `v${i}`).join('\n');
    for (let p = 0; p < partitions; p++) {
      const r = await sluice(['produce', '-t', topic, '-p', String(p), '-q'], lines);
      assert.equal(r.code, 0, r.stderr);
    }
  }

  /** Commits `offset` for the group on the listed partitions (a reset of a group without members). */
  async function commit(group: string, topicPartitions: string, offset: number): Promise<void> {
    const r = await sluice([
      'group',
      'reset-offsets',
      group,
      '--topic',
      topicPartitions,
      '--to-offset',
      String(offset),
      '--execute',
    ]);
    assert.equal(r.code, 0, r.stderr);
  }

  async function committed(group: string): Promise<Record<number, number | null>> {
    const r = await sluice(['group', 'describe', group, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [g] = jsonLines<GroupJson>(r);
    return Object.fromEntries(g.partitions.map((p) => [p.partition, p.committedOffset]));
  }

  before(async () => {
    broker = await startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } });
    kafka = new Kafka({ clientId: 'cli-introspection-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  });

  after(async () => {
    await stopAndRemove(broker);
  });

  test('--version and -V print the version in package.json', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await run(process.execPath, [BIN, flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), VERSION);
    }
  });

  test('cluster info names the cluster, its controller, each broker with address, listeners, Sluice version and APIs', async () => {
    const r = await sluice(['cluster', 'info', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      clusterId: string;
      controllerId: number;
      source: string;
      brokers: Array<{
        nodeId: number;
        host: string;
        port: number;
        rack: string | null;
        listeners: string[] | null;
        sluiceVersion: string | null;
        apiVersions: Array<{
          api: string;
          apiKey: number;
          minVersion: number;
          maxVersion: number;
          usable: number | null;
        }>;
      }>;
    };
    const admin = kafka.admin();
    await admin.connect();
    try {
      const seen = await admin.describeCluster();
      assert.equal(info.clusterId, seen.clusterId);
      assert.equal(info.controllerId, seen.controller);
      assert.deepEqual(
        info.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
        seen.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
      );
    } finally {
      await admin.disconnect();
    }
    assert.equal(info.source, 'DescribeCluster');
    const [b] = info.brokers;
    assert.equal(b.port, broker.port);
    assert.equal(b.rack, null);
    assert.equal(b.sluiceVersion, VERSION);
    assert.ok(
      b.listeners?.some((l) => l.startsWith('PLAINTEXT://')),
      JSON.stringify(b.listeners),
    );
    const api = (key: number) => b.apiVersions.find((a) => a.apiKey === key);
    assert.deepEqual(api(47), { api: 'OffsetDelete', apiKey: 47, minVersion: 0, maxVersion: 0, usable: 0 });
    assert.equal(api(60)?.api, 'DescribeCluster');
    assert.equal(api(0)?.usable, api(0)?.maxVersion, 'the client produces at the newest version Sluice serves');

    const text = await sluice(['cluster', 'info']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`Cluster: ${info.clusterId}  Controller: 1  Brokers: 1`));
    assert.match(
      text.stdout,
      new RegExp(`127\\.0\\.0\\.1:${broker.port}\\s+-\\s+Sluice ${VERSION.replaceAll('.', '\\.')}`),
    );
    assert.match(text.stdout, /OffsetDelete\s+47\s+0\s+0\s+0/);
  });

  test('broker config shows the settings away from their defaults, every one with --all, each with its source', async () => {
    interface Listed {
      broker: number;
      configs: Array<{ name: string; value: string | null; source: string; readOnly: boolean }>;
    }
    let r = await sluice(['broker', 'config', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [set] = jsonLines<Listed>(r);
    assert.equal(set.broker, 1);
    const byName = (l: Listed, name: string) => l.configs.find((c) => c.name === name);
    assert.deepEqual(byName(set, 'group.initial.rebalance.delay.ms'), {
      name: 'group.initial.rebalance.delay.ms',
      value: '0',
      source: 'STATIC_BROKER_CONFIG',
      readOnly: true,
      sensitive: false,
    });
    assert.equal(byName(set, 'num.partitions'), undefined, 'a default is left out without --all');
    assert.ok(
      set.configs.every((c) => c.source !== 'DEFAULT_CONFIG'),
      JSON.stringify(set.configs),
    );

    r = await sluice(['broker', 'config', '1', '--all', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const [all] = jsonLines<Listed>(r);
    assert.equal(byName(all, 'num.partitions')?.source, 'DEFAULT_CONFIG');
    assert.equal(byName(all, 'num.partitions')?.value, '1');
    assert.equal(byName(all, 'sluice.version')?.value, VERSION);
    assert.ok(all.configs.length > set.configs.length);

    r = await sluice(['broker', 'config']);
    assert.match(r.stdout, /group\.initial\.rebalance\.delay\.ms\s+0\s+STATIC_BROKER_CONFIG/);
    r = await sluice(['broker', 'config', '7']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broker 7 is not in the cluster metadata/);
  });

  test('topic describe without names describes every non-internal topic; --internal adds the internal ones', async () => {
    assert.equal((await sluice(['topic', 'create', 'described-a', '-p', '2'])).code, 0);
    assert.equal((await sluice(['topic', 'create', 'described-b'])).code, 0);
    // A committed offset makes sure __consumer_offsets holds something; it exists from start-up anyway.
    await commit('describe-all-topics', 'described-a', 0);
    let r = await sluice(['topic', 'describe', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const names = jsonLines<{ name: string; partitions: unknown[] }>(r).map((t) => t.name);
    assert.ok(names.includes('described-a') && names.includes('described-b'), names.join(','));
    assert.ok(!names.includes('__consumer_offsets'), names.join(','));
    r = await sluice(['topic', 'describe', '--internal', '--format', 'json']);
    assert.ok(
      jsonLines<{ name: string; internal: boolean }>(r).some((t) => t.name === '__consumer_offsets' && t.internal),
      r.stdout,
    );
    r = await sluice(['topic', 'describe', 'described-a', '--internal']);
    assert.equal(r.code, 2, 'names and --internal together are a usage error');
  });

  test('reset-offsets keeps --shift-by, --to-offset and --from-file offsets within the log start and end', async () => {
    await topicWithRecords('clamp', 2, 10);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: ['clamp'] });
      await admin.deleteTopicRecords({ topic: 'clamp', partitions: [{ partition: 0, offset: '4' }] });
    } finally {
      await admin.disconnect();
    }
    await commit('clamp-g', 'clamp:0', 6);
    await commit('clamp-g', 'clamp:1', 3);
    const reset = (...args: string[]) =>
      sluice(['group', 'reset-offsets', 'clamp-g', '--all-topics', ...args, '--format', 'json']);

    let r = await reset('--shift-by', '-5');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(newOffsets(r), { 0: 4, 1: 0 }, '6-5 is below the log start 4; 3-5 below 0');
    assert.deepEqual(
      jsonLines<PlanLine>(r).map((p) => p.currentOffset),
      [6, 3],
    );
    r = await reset('--shift-by', '5');
    assert.deepEqual(newOffsets(r), { 0: 10, 1: 8 }, '6+5 is past the log end 10');
    r = await reset('--shift-by=-1');
    assert.deepEqual(newOffsets(r), { 0: 5, 1: 2 });
    r = await reset('--to-offset', '2');
    assert.deepEqual(newOffsets(r), { 0: 4, 1: 2 });
    assert.deepEqual(await committed('clamp-g'), { 0: 6, 1: 3 }, 'dry runs changed nothing');

    const dir = tempDir('sluice-reset-plan-');
    try {
      const file = join(dir, 'plan.csv');
      writeFileSync(file, 'clamp,0,100\nclamp,1,1\n');
      r = await sluice(['group', 'reset-offsets', 'clamp-g', '--from-file', file, '--execute']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await committed('clamp-g'), { 0: 10, 1: 1 });
      r = await sluice(['group', 'reset-offsets', 'clamp-g', '--from-file', file, '--topic', 'clamp']);
      assert.equal(r.code, 2, 'the file names the partitions');
      writeFileSync(file, 'clamp,7,1\n');
      r = await sluice(['group', 'reset-offsets', 'clamp-g', '--from-file', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no partition 7/);
    } finally {
      removeDir(dir);
    }
  });

  test('reset-offsets by time: --by-duration and --to-datetime find the first record at or after; later times give the log end', async () => {
    await topicWithRecords('timed', 1, 5);
    const reset = (...args: string[]) =>
      sluice(['group', 'reset-offsets', 'timed-g', '--topic', 'timed', ...args, '--format', 'json']);
    let r = await reset('--by-duration', 'PT1H');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(newOffsets(r), { 0: 0 }, 'every record is younger than an hour');
    r = await reset('--by-duration', '-PT1H');
    assert.deepEqual(newOffsets(r), { 0: 5 }, 'an hour from now is after every record');
    r = await reset('--to-datetime', '2000-01-01T00:00:00.000');
    assert.deepEqual(newOffsets(r), { 0: 0 });
    r = await reset('--to-datetime', '2999-01-01T00:00:00.000+02:00');
    assert.deepEqual(newOffsets(r), { 0: 5 });
    r = await reset('--by-duration', 'P1Y');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ISO-8601 duration/);
    r = await reset('--to-datetime', '2024-02-30T00:00:00.000');
    assert.equal(r.code, 2);
  });

  test('--to-current keeps committed offsets and gives the others the log end; --export writes what --from-file reads', async () => {
    await topicWithRecords('current', 2, 10);
    await commit('current-g', 'current:0', 3);
    let r = await sluice(['group', 'reset-offsets', 'current-g', '--topic', 'current', '--shift-by', '1']);
    assert.equal(r.code, 1, 'partition 1 has no committed offset to shift');
    assert.match(r.stderr, /cannot shift partition current-1: group "current-g" has no committed offset/);

    r = await sluice(['group', 'reset-offsets', 'current-g', '--topic', 'current', '--to-current', '--export']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'current,0,3\ncurrent,1,10\n');
    assert.match(r.stderr, /dry run/);

    await commit('current-g', 'current', 0);
    const dir = tempDir('sluice-reset-plan-');
    try {
      const file = join(dir, 'exported.csv');
      writeFileSync(file, r.stdout);
      const applied = await sluice(['group', 'reset-offsets', 'current-g', '--from-file', file, '--execute']);
      assert.equal(applied.code, 0, applied.stderr);
    } finally {
      removeDir(dir);
    }
    assert.deepEqual(await committed('current-g'), { 0: 3, 1: 10 });
  });

  test('describe --all-groups describes every consumer group; an unknown group is explained in words', async () => {
    await topicWithRecords('all-groups', 1, 2);
    await commit('all-groups-a', 'all-groups', 1);
    await commit('all-groups-b', 'all-groups', 2);
    let r = await sluice(['group', 'describe', '--all-groups', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const groups = jsonLines<GroupJson>(r);
    const a = groups.find((g) => g.group === 'all-groups-a');
    const b = groups.find((g) => g.group === 'all-groups-b');
    assert.equal(a?.partitions[0].committedOffset, 1);
    assert.equal(b?.partitions[0].committedOffset, 2);
    assert.equal((await sluice(['group', 'describe', 'all-groups-a', '--all-groups'])).code, 2);

    r = await sluice(['group', 'describe', 'no-such-group']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'GROUP_ID_NOT_FOUND: group "no-such-group" does not exist');
    r = await sluice(['group', 'delete', 'no-such-group']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GROUP_ID_NOT_FOUND: group "no-such-group" does not exist/);
    r = await sluice(['group', 'delete', 'all-groups-a', 'no-such-group', '--format', 'json']);
    assert.equal(r.code, 1);
    assert.deepEqual(jsonLines(r), [
      { group: 'all-groups-a', error: null, explanation: null },
      {
        group: 'no-such-group',
        error: 'GROUP_ID_NOT_FOUND',
        explanation: 'GROUP_ID_NOT_FOUND: group "no-such-group" does not exist',
      },
    ]);
  });

  test('delete-offsets empties an idle group’s partitions; a subscribed member blocks it and blocks group delete', async () => {
    await topicWithRecords('offsets-deleted', 2, 3);
    await commit('delete-g', 'offsets-deleted', 1);
    let r = await sluice(['group', 'delete-offsets', 'delete-g', '--topic', 'offsets-deleted:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /offsets-deleted\s+1\s+deleted/);
    assert.deepEqual(await committed('delete-g'), { 0: 1 });

    r = await sluice(['group', 'delete-offsets', 'no-such-group', '--topic', 'offsets-deleted']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GROUP_ID_NOT_FOUND: group "no-such-group" does not exist/);

    const follower = spawn(
      process.execPath,
      [BIN, 'consume', '-t', 'offsets-deleted', '-g', 'delete-g', '-b', broker.bootstrap],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => follower.once('exit', resolve));
    try {
      // Wait (up to 30 s) until the follower's membership is settled.
      let stable = false;
      for (let i = 0; i < 150 && !stable; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const d = await sluice(['group', 'describe', 'delete-g', '--format', 'json']);
        const [g] = jsonLines<GroupJson>(d);
        stable = g?.state === 'Stable' && g.members.length === 1;
      }
      assert.ok(stable, 'the follower joined the group');

      r = await sluice(['group', 'delete-offsets', 'delete-g', '--topic', 'offsets-deleted', '--format', 'json']);
      assert.equal(r.code, 1);
      assert.deepEqual(
        jsonLines<{ partition: number; error: string | null }>(r).map((p) => p.error),
        ['GROUP_SUBSCRIBED_TO_TOPIC', 'GROUP_SUBSCRIBED_TO_TOPIC'],
      );
      r = await sluice(['group', 'delete-offsets', 'delete-g', '--topic', 'offsets-deleted:0']);
      assert.match(r.stdout, /GROUP_SUBSCRIBED_TO_TOPIC: a member of group "delete-g" is subscribed to this topic/);

      r = await sluice(['group', 'delete', 'delete-g']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), 'delete-g: NON_EMPTY_GROUP: group "delete-g" has active members; stop them first');
    } finally {
      follower.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });
});

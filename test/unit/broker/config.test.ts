import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  loadConfig,
  parseListener,
  parseMaxConnectionsPerIpOverrides,
  parseProperties,
  resolveConfig,
  retentionMs,
  servedListeners,
} from '../../../src/broker/config.js';
import { REPO_ROOT, removeDir, tempDir } from '../../helpers/broker-process.js';

const STOCK_KAFKA_PROPERTIES = join(REPO_ROOT, 'test', 'fixtures', 'kafka-4-server.properties');

test('defaults follow Kafka: one partition, 7 days retention, 100 MiB max request', async () => {
  const c = await loadConfig();
  assert.equal(c['num.partitions'], 1);
  assert.equal(retentionMs(c), 168 * 3_600_000);
  assert.equal(c['socket.request.max.bytes'], 104857600);
  assert.deepEqual(c.listeners, ['PLAINTEXT://127.0.0.1:9092']);
  assert.deepEqual(c['log.dirs'], ['./data']);
});

test('later sources override earlier ones: file < environment < overrides', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'server.properties');
    writeFileSync(file, '# comment\nnum.partitions=2\nlog.retention.hours = 24\nlog.dirs=/from/file\nnode.id: 7\n');
    const env = { SLUICE_NUM_PARTITIONS: '3', SLUICE_LOG_DIRS: '/from/env', UNRELATED: 'x' };
    const c = await loadConfig({ file, env, overrides: { 'num.partitions': '4' } });
    assert.equal(c['num.partitions'], 4, 'override wins');
    assert.deepEqual(c['log.dirs'], ['/from/env'], 'env beats file');
    assert.equal(retentionMs(c), 24 * 3_600_000, 'file beats default');
    assert.equal(c['node.id'], 7);
  } finally {
    removeDir(dir);
  }
});

test('log.retention.ms takes precedence over minutes and hours', async () => {
  const c = await loadConfig({ overrides: { 'log.retention.hours': '1', 'log.retention.minutes': '5' } });
  assert.equal(retentionMs(c), 5 * 60_000);
  const d = await loadConfig({ overrides: { 'log.retention.minutes': '5', 'log.retention.ms': '1234' } });
  assert.equal(retentionMs(d), 1234);
});

test('an unknown key fails with a message naming it', async () => {
  await assert.rejects(loadConfig({ overrides: { 'num.partitons': '3' } }), (err: Error) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /num\.partitons/);
    return true;
  });
});

test('an invalid value fails with the key and the valid range', async () => {
  await assert.rejects(loadConfig({ overrides: { 'num.partitions': '0' } }), /"num\.partitions".*\[1, 100000\]/);
  await assert.rejects(loadConfig({ overrides: { 'auto.create.topics.enable': 'yes' } }), /true or false/);
  await assert.rejects(loadConfig({ overrides: { 'log.message.timestamp.type': 'Now' } }), /CreateTime, LogAppendTime/);
});

test('properties files support continuations and both separators', () => {
  const p = parseProperties('a=1\nb: two\nc = x,\\\n  y\n! bang comment\n');
  assert.deepEqual(
    [...p],
    [
      ['a', '1'],
      ['b', 'two'],
      ['c', 'x,y'],
    ],
  );
});

test('listeners parse as NAME://host:port, with IPv6 brackets', () => {
  assert.deepEqual(parseListener('PLAINTEXT://127.0.0.1:9092'), { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 });
  assert.deepEqual(parseListener('plaintext://[::1]:0'), { name: 'PLAINTEXT', host: '::1', port: 0 });
  assert.deepEqual(parseListener('PLAINTEXT://:9092'), { name: 'PLAINTEXT', host: '0.0.0.0', port: 9092 });
  assert.throws(() => parseListener('127.0.0.1:9092'), ConfigError);
  assert.throws(() => parseListener('PLAINTEXT://h:70000'), ConfigError);
});

test('every unknown key is named in one error, not one per start', async () => {
  await assert.rejects(
    loadConfig({ overrides: { 'num.partitons': '3', 'log.retension.hours': '1', 'num.partitions': '0' } }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /unknown settings "num\.partitons", "log\.retension\.hours"/);
      assert.match(err.message, /"num\.partitions".*\[1, 100000\]/, 'invalid values are reported in the same error');
      return true;
    },
  );
});

test("Kafka 4's stock server.properties loads as it is, with one warning naming what is ignored", async () => {
  const loaded = await resolveConfig({ file: STOCK_KAFKA_PROPERTIES });
  const c = loaded.config;
  assert.equal(c['node.id'], 1);
  assert.deepEqual(c['log.dirs'], ['/tmp/kraft-combined-logs']);
  assert.equal(retentionMs(c), 168 * 3_600_000);
  assert.deepEqual(
    servedListeners(c),
    [{ name: 'PLAINTEXT', host: '0.0.0.0', port: 9092 }],
    'CONTROLLER is not served',
  );
  assert.equal(loaded.warnings.length, 1, loaded.warnings.join('\n'));
  const [warning] = loaded.warnings;
  for (const key of [
    'process.roles',
    'controller.quorum.bootstrap.servers',
    'inter.broker.listener.name',
    'num.network.threads',
    'num.io.threads',
    'socket.send.buffer.bytes',
    'socket.receive.buffer.bytes',
    'num.recovery.threads.per.data.dir',
    'offsets.topic.replication.factor',
    'transaction.state.log.replication.factor',
    'transaction.state.log.min.isr',
    'share.coordinator.state.topic.replication.factor',
    'share.coordinator.state.topic.min.isr',
    'CONTROLLER://:9093',
  ]) {
    assert.ok(warning.includes(key), `the warning names ${key}: ${warning}`);
  }
  assert.equal(loaded.origins.get('log.dirs'), 'file');
  assert.equal(loaded.origins.has('message.max.bytes'), false);
});

test('a replication factor or min.isr above 1 fails: one broker cannot keep more copies', async () => {
  await assert.rejects(
    loadConfig({ overrides: { 'offsets.topic.replication.factor': '3', 'transaction.state.log.min.isr': '2' } }),
    (err: Error) => {
      assert.match(err.message, /"offsets\.topic\.replication\.factor": Sluice is a single broker/);
      assert.match(err.message, /"transaction\.state\.log\.min\.isr"/);
      return true;
    },
  );
  await assert.rejects(loadConfig({ overrides: { 'num.io.threads': 'eight' } }), /"num\.io\.threads"/);
});

test('broker.id is read as node.id, as Kafka still does', async () => {
  const c = await loadConfig({ overrides: { 'broker.id': '5' } });
  assert.equal(c['node.id'], 5);
});

test('a listener on every interface without advertised.listeners warns that clients are told 127.0.0.1', async () => {
  const wildcard = await resolveConfig({ overrides: { listeners: 'PLAINTEXT://0.0.0.0:9092' } });
  assert.equal(wildcard.warnings.length, 1);
  assert.match(
    wildcard.warnings[0],
    /every interface.*127\.0\.0\.1.*advertised\.listeners=PLAINTEXT:\/\/<host clients can reach>:9092/,
  );
  const emptyHost = await resolveConfig({ overrides: { listeners: 'PLAINTEXT://:9092' } });
  assert.equal(emptyHost.warnings.length, 1, 'an empty host is every interface too');
  const advertised = await resolveConfig({
    overrides: { listeners: 'PLAINTEXT://0.0.0.0:9092', 'advertised.listeners': 'PLAINTEXT://broker.example:9092' },
  });
  assert.deepEqual(advertised.warnings, []);
  assert.deepEqual((await resolveConfig()).warnings, [], 'the defaults deserve no warning');
});

test('a default cleanup policy of compact is taken without a warning, since the log cleaner compacts', async () => {
  const loaded = await resolveConfig({ overrides: { 'log.cleanup.policy': 'compact' } });
  assert.deepEqual(loaded.warnings, []);
});

test('the log cleaner settings take Kafka values and refuse values out of range', async () => {
  const config = await loadConfig({
    overrides: {
      'log.cleaner.min.cleanable.ratio': '0.25',
      'log.cleaner.io.max.bytes.per.second': '1048576.5',
      'log.cleaner.backoff.ms': '100',
    },
  });
  assert.equal(config['log.cleaner.min.cleanable.ratio'], 0.25);
  assert.equal(config['log.cleaner.io.max.bytes.per.second'], 1048576.5);
  await assert.rejects(
    loadConfig({ overrides: { 'log.cleaner.min.cleanable.ratio': '1.5' } }),
    /min\.cleanable\.ratio/,
  );
  await assert.rejects(loadConfig({ overrides: { 'log.cleaner.delete.retention.ms': '-1' } }), /delete\.retention/);
});

test('listeners that only a controller could serve, or TLS ones without a certificate, fail start-up', async () => {
  await assert.rejects(loadConfig({ overrides: { listeners: 'CONTROLLER://:9093' } }), /no listener for clients/);
  await assert.rejects(
    loadConfig({ overrides: { listeners: 'SSL://:9093', 'listener.security.protocol.map': 'SSL:SSL' } }),
    /listener SSL uses SSL but has no certificate/,
  );
  await assert.rejects(loadConfig({ overrides: { listeners: 'localhost:9092' } }), /listeners: invalid listener/);
});

test('connection limits (KIP-612) are validated: creation rate range, overrides as host:count, per-IP 0 only with overrides', async () => {
  const config = await loadConfig({
    overrides: {
      'max.connection.creation.rate': '5',
      'max.connections.per.ip': '0',
      'max.connections.per.ip.overrides': '127.0.0.1:10, ::1:3,broker.local:2',
    },
  });
  assert.equal(config['max.connection.creation.rate'], 5);
  assert.deepEqual(
    [...parseMaxConnectionsPerIpOverrides(config['max.connections.per.ip.overrides'] as string)],
    [
      ['127.0.0.1', 10],
      ['::1', 3],
      ['broker.local', 2],
    ],
  );
  assert.equal((await loadConfig())['max.connection.creation.rate'], 2147483647, "Kafka's default: no limit");
  assert.equal(
    (await loadConfig({ overrides: { 'max.connections.per.ip.overrides': '' } }))['max.connections.per.ip.overrides'],
    null,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'max.connection.creation.rate': '-1' } }),
    /"max\.connection\.creation\.rate"/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'max.connections.per.ip.overrides': '127.0.0.1=10' } }),
    /entry "127\.0\.0\.1=10" is not host:count/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'max.connections.per.ip.overrides': 'h:-1' } }),
    /max\.connections\.per\.ip\.overrides/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'max.connections.per.ip': '0' } }),
    /max\.connections\.per\.ip is 0, which refuses every client/,
  );
});

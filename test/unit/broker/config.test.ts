import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseListener, parseProperties, retentionMs } from '../../../src/broker/config.js';
import { removeDir, tempDir } from '../../helpers/broker-process.js';

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

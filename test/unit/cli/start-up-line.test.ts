/** What `sluice start` prints: level names, one start-up line that says what started and how, no false alarms. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type BrokerProcess, REPO_ROOT, removeDir, startBrokerProcess, tempDir } from '../../helpers/broker-process.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function jsonLines(broker: BrokerProcess): Array<Record<string, unknown>> {
  return broker
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('json logs carry level names, and the start-up line names version, cluster, node, listeners, data dir and changed settings with their origin', async () => {
  const dir = tempDir();
  const config = join(dir, 'server.properties');
  writeFileSync(config, 'log.retention.hours=24\n');
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBrokerProcess({
      dataDir: join(dir, 'data'),
      overrides: { 'num.partitions': 3 },
      args: ['--config', config],
      env: { SLUICE_MESSAGE_MAX_BYTES: '2000000', SLUICE_LOG_FORMAT: '' },
    });
    const lines = jsonLines(broker);
    for (const line of lines) assert.ok(['info', 'warn', 'debug'].includes(String(line.level)), JSON.stringify(line));
    const startUp = lines.find((l) => String(l.msg).startsWith('listening on '));
    assert.ok(startUp, broker.output());
    const clusterId = /cluster\.id=(.+)/.exec(readFileSync(join(dir, 'data', 'meta.properties'), 'utf8'))?.[1];
    assert.equal(startUp.version, VERSION);
    assert.equal(startUp.clusterId, clusterId);
    assert.equal(startUp.nodeId, 1);
    assert.deepEqual(startUp.listeners, [`PLAINTEXT://127.0.0.1:${broker.port}`]);
    assert.equal(startUp.logDir, join(dir, 'data'));
    assert.deepEqual(startUp.settings, {
      listeners: 'PLAINTEXT://127.0.0.1:0 (override)',
      'log.dirs': `${join(dir, 'data')} (override)`,
      'log.retention.hours': '24 (file)',
      'message.max.bytes': '2000000 (env)',
      'num.partitions': '3 (override)',
    });
    assert.doesNotMatch(broker.output(), /not shut down cleanly/, 'a fresh directory has nothing to recover');
  } finally {
    await broker?.stop();
    removeDir(dir);
  }
});

test('--log-format pretty prints one readable line per entry, with the level as a word', async () => {
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBrokerProcess({ args: ['--log-format', 'pretty'] });
    const lines = broker
      .output()
      .split('\n')
      .filter((l) => l !== '');
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO |WARN |DEBUG) \S/, line);
    const startUp = lines.find((l) => / INFO {2}listening on PLAINTEXT:\/\//.test(l));
    assert.ok(startUp, broker.output());
    assert.match(startUp, new RegExp(` version=${VERSION.replaceAll('.', '\\.')} `));
    assert.match(startUp, / nodeId=1 /);
    assert.doesNotMatch(broker.output(), /[{]"level"/, 'no JSON in the pretty format');
  } finally {
    if (broker) removeDir(broker.dataDir);
    await broker?.stop();
  }
});

test('the memory engine logs nothing about logs not shut down cleanly', async () => {
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBrokerProcess({ args: ['--storage', 'memory'] });
    assert.doesNotMatch(broker.output(), /cleanly|log dir opened/);
  } finally {
    if (broker) removeDir(broker.dataDir);
    await broker?.stop();
  }
});

test("sluice start --config with Kafka's stock server.properties starts with one warning", async () => {
  let broker: BrokerProcess | undefined;
  try {
    // --port and --data-dir (the helper's) override the file's listeners and log.dirs, so the test binds 127.0.0.1.
    const file = join(REPO_ROOT, 'test', 'fixtures', 'kafka-4-server.properties');
    broker = await startBrokerProcess({ args: ['--config', file] });
    const warnings = jsonLines(broker).filter((l) => l.level === 'warn');
    assert.equal(warnings.length, 1, broker.output());
    assert.match(
      String(warnings[0].msg),
      /no effect on a single Sluice broker.*process\.roles.*CONTROLLER:\/\/localhost:9093 in advertised\.listeners/,
    );
  } finally {
    await broker?.stop();
    if (broker) removeDir(broker.dataDir);
  }
});

test('an unknown --log-format is a usage error', async () => {
  await assert.rejects(startBrokerProcess({ args: ['--log-format', 'xml'], timeoutMs: 10000 }), /exited with 2/);
});

/**
 * One data directory, one broker: `sluice start` locks the directory before it reads anything in it, and a
 * second broker on it exits at once, naming the holder, while the first keeps serving and loses nothing.
 * A port in use fails the start before the logs are touched.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../../src/records/builder.js';
import { WireClient } from '../../crash/wire-client.js';
import { REPO_ROOT, removeDir, startBrokerProcess, stopAndRemove, tempDir } from '../../helpers/broker-process.js';

const BIN = join(REPO_ROOT, 'bin', 'sluice.js');

/** Runs `sluice start` expecting it to fail; resolves with its exit code and output. */
async function failedStart(args: string[], timeoutMs = 15_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, output };
}

async function produceAcked(client: WireClient, value: string): Promise<bigint> {
  const [r] = await client.produce('orders', [
    { partition: 0, batch: buildRecordBatch([{ value: Buffer.from(value) }]) },
  ]);
  assert.equal(r.errorCode, ErrorCode.NONE);
  return r.baseOffset;
}

test('a second broker on a data dir in use exits non-zero and the first keeps every acknowledged record', async () => {
  const first = await startBrokerProcess();
  let client: WireClient | undefined;
  try {
    const lock = readFileSync(join(first.dataDir, '.lock'), 'utf8');
    assert.match(lock, new RegExp(`^pid=${first.child.pid}$`, 'm'));
    client = await WireClient.connect(first.port);
    assert.equal(await client.createTopic('orders', 1), ErrorCode.NONE);
    assert.equal(await produceAcked(client, 'before'), 0n);
    const segment = join(first.dataDir, 'orders-0', '00000000000000000000.log');
    const bytesBefore = readFileSync(segment);

    const second = await failedStart(['--port', '0', '--data-dir', first.dataDir]);
    assert.notEqual(second.code, 0);
    assert.match(
      second.output,
      new RegExp(`data dir ${first.dataDir} is in use by another broker \\(pid ${first.child.pid}\\)`),
    );
    assert.doesNotMatch(second.output, /listening/);
    assert.deepEqual(readFileSync(segment), bytesBefore, 'the second broker changed the live log');

    // The first broker still serves, and its lock is still there.
    assert.equal(await produceAcked(client, 'after'), 1n);
    assert.equal(readFileSync(join(first.dataDir, '.lock'), 'utf8'), lock);
    client.close();
    client = undefined;
    assert.equal(await first.stop(), 0);
    assert.equal(existsSync(join(first.dataDir, '.lock')), false, 'a clean stop releases the lock');

    const again = await startBrokerProcess({ dataDir: first.dataDir });
    try {
      client = await WireClient.connect(again.port);
      const values = (await client.readAll('orders', 0)).map((r) => r.value?.toString());
      assert.deepEqual(values, ['before', 'after']);
    } finally {
      client?.close();
      await again.stop();
    }
  } finally {
    client?.close();
    await stopAndRemove(first);
  }
});

test('a lock left by a broker killed with SIGKILL does not block the next start', async () => {
  const first = await startBrokerProcess();
  try {
    await first.kill();
    assert.equal(existsSync(join(first.dataDir, '.lock')), true);
    const next = await startBrokerProcess({ dataDir: first.dataDir });
    assert.match(readFileSync(join(first.dataDir, '.lock'), 'utf8'), new RegExp(`^pid=${next.child.pid}$`, 'm'));
    assert.equal(await next.stop(), 0);
  } finally {
    removeDir(first.dataDir);
  }
});

test('a start on a port in use fails before it recovers or writes anything in its data dir', async () => {
  // A data dir whose last stop was not clean, with a torn batch at the end of its log: a recovery cuts it.
  const dir = tempDir();
  const crashed = await startBrokerProcess({ dataDir: dir });
  const client = await WireClient.connect(crashed.port);
  assert.equal(await client.createTopic('orders', 1), ErrorCode.NONE);
  await produceAcked(client, 'kept');
  client.close();
  await crashed.kill();
  const segment = join(dir, 'orders-0', '00000000000000000000.log');
  appendFileSync(segment, Buffer.alloc(30, 0x7f));
  // The stale .lock of the killed broker may be taken over and given back; nothing else may change.
  const dataFiles = () =>
    readdirSync(dir, { recursive: true })
      .filter((f) => f !== '.lock')
      .sort();
  const files = dataFiles();
  const torn = readFileSync(segment);

  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  const port = (taken.address() as { port: number }).port;
  try {
    const result = await failedStart(['--port', String(port), '--data-dir', dir]);
    assert.notEqual(result.code, 0);
    assert.match(result.output, new RegExp(`cannot listen on PLAINTEXT://127.0.0.1:${port}: the port is in use`));
    assert.deepEqual(readFileSync(segment), torn, 'the failed start recovered the log');
    assert.deepEqual(dataFiles(), files, 'the failed start wrote files');
  } finally {
    taken.close();
  }
  // The same start on a free port does recover: the torn batch is cut.
  const recovered = await startBrokerProcess({ dataDir: dir });
  await recovered.stop();
  assert.equal(readFileSync(segment).length, torn.length - 30);
  removeDir(dir);
});

test('a data dir that cannot be created (under /proc) ends the start with a clear error', async () => {
  const started = Date.now();
  const result = await failedStart(['--port', '0', '--data-dir', '/proc/sluice-no-such/data'], 10_000);
  assert.equal(result.code, 1, result.output);
  assert.match(result.output, /sluice start: cannot create data dir \/proc\/sluice-no-such\/data: /);
  assert.ok(Date.now() - started < 10_000);
});

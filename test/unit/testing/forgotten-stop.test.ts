/**
 * An embedded broker never keeps its process alive: a test that forgets `stop()` still lets the test runner
 * exit. And `await using` stops the broker at the end of its block.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../../../src/index.js';
import { REPO_ROOT, removeDir, tempDir } from '../../helpers/broker-process.js';

const EXIT_BOUND_MS = 10_000;

test('a process that starts brokers and never stops them exits on its own', async () => {
  const dir = tempDir('sluice-forgotten-');
  try {
    const script = join(dir, 'forgets-stop.mjs');
    // Both engines; a client connects, asks something and goes away; nothing is stopped.
    writeFileSync(
      script,
      `import { connect } from 'node:net';
import { startBroker } from ${JSON.stringify(join(REPO_ROOT, 'dist/src/index.js'))};
const memory = await startBroker({ topics: ['orders'] });
const disk = await startBroker({ storage: 'disk', topics: ['orders'] });
for (const port of [memory.port, disk.port]) {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise((resolve) => socket.once('connect', resolve));
  // ApiVersions v0, correlation id 7, no client id.
  socket.write(Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff]));
  await new Promise((resolve) => socket.once('data', resolve));
  socket.destroy();
}
console.log('started', memory.port, disk.port);
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    assert.equal(signal, null, `the process did not exit within ${EXIT_BOUND_MS} ms:\n${output}`);
    assert.equal(code, 0, output);
    assert.match(output, /^started \d+ \d+$/m);
  } finally {
    removeDir(dir);
  }
});

test('await using stops the broker when its block ends', async () => {
  let port: number;
  {
    await using kafka = await startBroker({ storage: 'disk' });
    port = kafka.port;
    const socket = connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.destroy();
  }
  const refused = connect({ port, host: '127.0.0.1' });
  const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
  assert.equal(err.code, 'ECONNREFUSED');
});

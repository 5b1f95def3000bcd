/**
 * The machine's own limits, measured with plain Node in a process of its own, for the bench's ratios.
 * Each mode prints one JSON line on stdout.
 *
 *   file-write   --dir D --write-size S --count N       writeSync S bytes N times to a new file (page cache)
 *   fsync-loop   --dir D --write-size S --count N       write S bytes, fdatasync, N times; latency per loop
 *   pump-server                                         answers every size-prefixed frame with 8 bytes
 *   pump-client  --port P --frame-size S --count N --in-flight K [--rate FRAMES_PER_S]
 *   listen       --port P                               a bare Node TCP server: start-up and RSS floor
 *   open-files   --dir D                                RSS growth from opening every file under D
 *   hold         --port P --count N [--frame-file F]    holds N connections (each sends F's bytes once)
 */
import {
  closeSync,
  fdatasyncSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Histogram } from '../src/cli/perf/histogram.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    'write-size': { type: 'string' },
    'frame-size': { type: 'string' },
    count: { type: 'string' },
    port: { type: 'string' },
    'in-flight': { type: 'string' },
    rate: { type: 'string' },
    'frame-file': { type: 'string' },
  },
});
const num = (name: keyof typeof values, fallback?: number): number => {
  const v = values[name];
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return Number(v);
};
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const pattern = (size: number) => {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = 65 + ((i * 7) % 26);
  return b;
};
const ms = (us: number) => us / 1000;

/**
 * Calls `write` --count times on a new file in --dir with a buffer of --write-size bytes, then removes the
 * file; returns the writes' rate, the bytes' rate and the seconds they took.
 */
function timedWrites(write: (fd: number, buf: Buffer) => void): {
  writesPerSec: number;
  bytesPerSec: number;
  seconds: number;
} {
  const size = num('write-size');
  const count = num('count');
  const buf = pattern(size);
  const path = join(values.dir!, `baseline-${process.pid}.dat`);
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  for (let i = 0; i < count; i++) write(fd, buf);
  const seconds = (performance.now() - t0) / 1000;
  closeSync(fd);
  unlinkSync(path);
  return { writesPerSec: count / seconds, bytesPerSec: (count * size) / seconds, seconds };
}

function fileWrite(): void {
  out(timedWrites((fd, buf) => writeSync(fd, buf)));
}

function fsyncLoop(): void {
  const h = new Histogram();
  const { writesPerSec, bytesPerSec, seconds } = timedWrites((fd, buf) => {
    const s = performance.now();
    writeSync(fd, buf);
    fdatasyncSync(fd);
    h.record((performance.now() - s) * 1000);
  });
  out({ writesPerSec, bytesPerSec, p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), seconds });
}

/** Cuts size-prefixed frames out of a stream; calls `onFrame` with each frame's length. */
function frames(socket: Socket, onFrame: (length: number) => void): void {
  let need = -1;
  let have = 0;
  const head: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => {
    let pos = 0;
    while (pos < chunk.length) {
      if (need < 0) {
        // Gather the 4-byte size, which may be split across chunks.
        const take = Math.min(4 - have, chunk.length - pos);
        head.push(chunk.subarray(pos, pos + take));
        have += take;
        pos += take;
        if (have < 4) return;
        need = Buffer.concat(head).readInt32BE(0);
        head.length = 0;
        have = 0;
      }
      const take = Math.min(need, chunk.length - pos);
      need -= take;
      pos += take;
      if (need === 0) {
        need = -1;
        onFrame(0);
      }
    }
  });
}

/** Returns a function that corks `socket` until the next tick, so the writes of one tick go out together. */
function corker(socket: Socket): () => void {
  let corked = false;
  return () => {
    if (corked) return;
    corked = true;
    socket.cork();
    process.nextTick(() => {
      corked = false;
      socket.uncork();
    });
  };
}

function pumpServer(): void {
  const ack = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]);
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => {});
    const cork = corker(socket);
    frames(socket, () => {
      cork();
      socket.write(ack);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    out({ port: typeof address === 'object' && address ? address.port : 0 });
  });
}

function pumpClient(): Promise<void> {
  const size = num('frame-size');
  const count = num('count');
  const inFlight = num('in-flight', 5);
  const rate = num('rate', 0);
  const frame = pattern(size);
  frame.writeInt32BE(size - 4, 0);
  const h = new Histogram();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: num('port') }, () => {
      socket.setNoDelay(true);
      const sentAt: number[] = [];
      let head = 0;
      let sent = 0;
      let acked = 0;
      const cork = corker(socket);
      let timer: NodeJS.Timeout | undefined;
      const t0 = performance.now();
      const pump = () => {
        while (sent < count && sent - acked < inFlight) {
          const now = performance.now();
          let readyAt = now;
          if (rate > 0) {
            readyAt = t0 + ((sent + 1) / rate) * 1000;
            if (readyAt > now) {
              clearTimeout(timer);
              timer = setTimeout(pump, Math.max(0, readyAt - now - 0.2));
              return;
            }
          }
          cork();
          sentAt.push(readyAt);
          sent++;
          socket.write(frame);
        }
      };
      frames(socket, () => {
        h.record((performance.now() - sentAt[head++]) * 1000);
        acked++;
        if (acked === count) {
          const seconds = (performance.now() - t0) / 1000;
          out({
            framesPerSec: count / seconds,
            bytesPerSec: (count * size) / seconds,
            p50Ms: ms(h.percentile(50)),
            p99Ms: ms(h.percentile(99)),
            seconds,
          });
          socket.destroy();
          resolve();
        } else {
          pump();
        }
      });
      pump();
    });
    socket.on('error', reject);
  });
}

function listen(): void {
  const server = createServer((socket) => {
    socket.on('data', () => {});
    socket.on('error', () => {});
  });
  server.listen(num('port'), '127.0.0.1');
}

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files.push(...walk(p));
    else files.push(p);
  }
  return files;
}

function openFiles(): void {
  const files = walk(values.dir!);
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  const fds = files.map((f) => openSync(f, 'r'));
  globalThis.gc?.();
  const after = process.memoryUsage().rss;
  out({ files: fds.length, rssBytes: after - before });
}

async function hold(): Promise<void> {
  const count = num('count');
  const bytes = values['frame-file'] ? readFileSync(values['frame-file']) : null;
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const group = Array.from(
      { length: Math.min(50, count - i) },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port: num('port') }, () => {
            if (bytes) s.write(bytes);
            resolve(s);
          });
          s.on('data', () => {});
          s.on('error', reject);
        }),
    );
    sockets.push(...(await Promise.all(group)));
  }
  out({ connections: sockets.length });
  // Held until the bench closes our stdin.
  process.stdin.resume();
  process.stdin.on('end', () => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  });
}

const mode = positionals[0];
switch (mode) {
  case 'file-write':
    fileWrite();
    break;
  case 'fsync-loop':
    fsyncLoop();
    break;
  case 'pump-server':
    pumpServer();
    break;
  case 'pump-client':
    await pumpClient();
    break;
  case 'listen':
    listen();
    break;
  case 'open-files':
    openFiles();
    break;
  case 'hold':
    await hold();
    break;
  default:
    console.error(`baselines: unknown mode "${mode}"`);
    process.exitCode = 2;
}

/**
 * The peer workload on Redis Streams, in a process of its own: append N values of S bytes to a stream
 * with pipelined XADD (--pipeline commands per round trip, --in-flight round trips at once), then read
 * them all back with XREAD COUNT from the start. Prints one JSON line.
 *
 *   node dist/bench/redis-streams.js --port P --records N --size S [--pipeline 1000] [--in-flight 4]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    records: { type: 'string' },
    size: { type: 'string' },
    pipeline: { type: 'string' },
    'in-flight': { type: 'string' },
    'read-count': { type: 'string' },
    stream: { type: 'string' },
  },
});
const records = Number(values.records);
const size = Number(values.size ?? 100);
const pipelineDepth = Number(values.pipeline ?? 1000);
const inFlight = Number(values['in-flight'] ?? 4);
const readCount = Number(values['read-count'] ?? 10_000);
const stream = values.stream ?? `bench-${process.pid}`;

const value = Buffer.alloc(size);
for (let i = 0; i < size; i++) value[i] = 65 + ((i * 7) % 26);

const redis = new Redis({ port: Number(values.port), host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: true });
await redis.connect();
await redis.del(stream);

// Append: each pipeline is one round trip of pipelineDepth XADDs; inFlight of them run at once.
let next = 0;
const t0 = performance.now();
const worker = async () => {
  while (next < records) {
    const n = Math.min(pipelineDepth, records - next);
    next += n;
    const p = redis.pipeline();
    for (let i = 0; i < n; i++) p.xadd(stream, '*', 'v', value);
    const results = await p.exec();
    for (const [err] of results ?? []) if (err) throw err;
  }
};
await Promise.all(Array.from({ length: inFlight }, worker));
const appendSeconds = (performance.now() - t0) / 1000;

// Read back: XREAD COUNT from the last id seen, until every record has come back.
let read = 0;
let lastId = '0-0';
const t1 = performance.now();
while (read < records) {
  const answer = (await redis.xreadBuffer('COUNT', readCount, 'STREAMS', stream, lastId)) as Array<
    [Buffer, Array<[Buffer, Buffer[]]>]
  > | null;
  if (!answer) break;
  const entries = answer[0][1];
  read += entries.length;
  lastId = entries[entries.length - 1][0].toString();
}
const readSeconds = (performance.now() - t1) / 1000;
await redis.del(stream);
redis.disconnect();

process.stdout.write(
  `${JSON.stringify({
    records,
    read,
    appendPerSec: records / appendSeconds,
    readPerSec: read / readSeconds,
    appendSeconds,
    readSeconds,
  })}\n`,
);

/**
 * The produce load generator (`sluice perf produce`), after Kafka's kafka-producer-perf-test.
 *
 * It is lean so that the broker, not the client, is what gets measured: the record batches are built once
 * (one full batch and one for the remainder, per partition) and encoded into Produce request templates;
 * the run only writes those same bytes again with a new correlation id. Nothing in a batch is patched: the
 * broker patches base offsets in its own copy, and the records keep the timestamp of when they were built.
 * Requests are pipelined up to --max-in-flight per connection.
 *
 * Latency is per Produce request, from the moment its batch was ready to its response. Unthrottled, a
 * batch is ready when it is sent. With --throughput, batch i is due at a fixed time in the schedule and
 * its latency counts from then, so a broker stall that delays later sends shows up in their latency
 * (no coordinated omission).
 */
import { randomBytes } from 'node:crypto';
import type { Acks } from '../../client/producer.js';
import { ErrorCode, errorName } from '../../protocol/error-codes.js';
import { ProduceApi, type ProduceResponse } from '../../protocol/generated/00-produce.js';
import { buildRecordBatchAsync, type CompressionType, type RecordInput } from '../../records/index.js';
import { Histogram } from './histogram.js';
import { encodeTemplate, RequestPipe, type RequestTemplate } from './request-pipe.js';
import { MB, type PerfSummary, summarizeLatency, Window } from './stats.js';

export interface ProducePerfOptions {
  host: string;
  port: number;
  topic: string;
  /** Negotiated Produce version (from the client library's ApiVersions handshake). */
  produceVersion: number;
  numRecords: number;
  recordSize: number;
  /** Bytes per batch, as Kafka's batch.size: as many records as fit. */
  batchSize: number;
  /** With --throughput: a batch is sent when full or when its first record has waited this long. */
  lingerMs: number;
  acks: Acks;
  compression: CompressionType;
  /** Batches go round-robin to partitions 0..partitions-1. */
  partitions: number;
  maxInFlight: number;
  /** Records per second; 0 or less: as fast as the broker takes them. */
  throughput: number;
  /** How long the broker may wait for acks=all. */
  timeoutMs: number;
  clientId?: string;
  /** Called every reportingIntervalMs with Kafka's progress line. */
  onProgress?: (line: string) => void;
  reportingIntervalMs?: number;
}

/** One partition's prepared requests: a full batch, and the last, shorter one. */
interface Prepared {
  full: RequestTemplate;
  tail: RequestTemplate | null;
}

/** Wire size of one record with a null key, no headers and value `size`, at a two-byte offset delta. */
function recordWireSize(size: number): number {
  const varint = (n: number) => (n < 64 ? 1 : n < 8192 ? 2 : n < 1048576 ? 3 : 4);
  const body = 1 + 1 + 2 + 1 + varint(size) + size + 1;
  return varint(body) + body;
}

/** Records per batch for `batchSize` bytes, as Kafka's accumulator fills batch.size: at least one. */
export function recordsPerBatch(batchSize: number, recordSize: number): number {
  return Math.max(1, Math.floor((batchSize - 61) / recordWireSize(recordSize)));
}

/** Values of printable random letters, as Kafka's perf test uses: each record differs, compression is fair. */
function makeRecords(count: number, size: number): RecordInput[] {
  const pool = randomBytes(Math.max(size * Math.min(count, 64), size));
  for (let i = 0; i < pool.length; i++) pool[i] = 65 + (pool[i] % 26);
  const records: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const start = (i * 7919) % Math.max(1, pool.length - size + 1);
    records.push({ key: null, value: pool.subarray(start, start + size) });
  }
  return records;
}

async function prepare(o: ProducePerfOptions, perBatch: number): Promise<{ prepared: Prepared[]; batchBytes: number }> {
  const full = await buildRecordBatchAsync(makeRecords(perBatch, o.recordSize), { compression: o.compression });
  const rest = o.numRecords % perBatch;
  const tail =
    rest > 0 ? await buildRecordBatchAsync(makeRecords(rest, o.recordSize), { compression: o.compression }) : null;
  const clientId = o.clientId ?? 'sluice-perf';
  const template = (partition: number, records: Buffer) =>
    encodeTemplate(
      ProduceApi,
      o.produceVersion,
      clientId,
      {
        transactionalId: null,
        acks: o.acks,
        timeoutMs: o.timeoutMs,
        topicData: [{ name: o.topic, partitionData: [{ index: partition, records }] }],
      },
      records.length,
    );
  const prepared: Prepared[] = [];
  for (let p = 0; p < o.partitions; p++) {
    prepared.push({ full: template(p, full), tail: tail ? template(p, tail) : null });
  }
  return { prepared, batchBytes: full.length };
}

function checkResponse(response: ProduceResponse): void {
  for (const t of response.responses) {
    for (const p of t.partitionResponses) {
      if (p.errorCode !== ErrorCode.NONE) {
        throw new Error(
          `produce to ${t.name}-${p.index} failed: ${errorName(p.errorCode)}${p.errorMessage ? `: ${p.errorMessage}` : ''}`,
        );
      }
    }
  }
}

export async function producePerf(o: ProducePerfOptions): Promise<PerfSummary> {
  const throttled = o.throughput > 0;
  let perBatch = recordsPerBatch(o.batchSize, o.recordSize);
  // Throttled, a batch holds what arrives within linger.ms (at least one record), as a real producer's would.
  if (throttled) perBatch = Math.min(perBatch, Math.max(1, Math.floor((o.throughput * o.lingerMs) / 1000)));
  perBatch = Math.min(perBatch, o.numRecords);
  const { prepared, batchBytes } = await prepare(o, perBatch);
  const totalBatches = Math.ceil(o.numRecords / perBatch);
  const pipe = await RequestPipe.open(o.host, o.port);

  const histogram = new Histogram();
  const window = new Window();
  let issued = 0; // batches sent
  let acked = 0; // records acknowledged (or written, with acks=0)
  let requests = 0;
  let partition = 0;
  let started = 0;

  try {
    return await new Promise<PerfSummary>((resolve, reject) => {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      const progress =
        o.onProgress && setInterval(() => o.onProgress?.(window.line('sent')), o.reportingIntervalMs ?? 5000).unref();
      const finish = (err: Error | null) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (progress) clearInterval(progress);
        if (err) return reject(err);
        const seconds = (performance.now() - started) / 1000;
        const bytes = acked * o.recordSize;
        resolve({
          kind: 'produce',
          topic: o.topic,
          records: acked,
          bytes,
          requests,
          seconds,
          recordsPerSec: acked / seconds,
          mbPerSec: bytes / MB / seconds,
          latencyMs: summarizeLatency(histogram),
          batchRecords: perBatch,
          batchBytes,
        });
      };
      pipe.onFail((err) => finish(err));

      const dueAt = (batch: number) => started + (((batch + 1) * perBatch) / o.throughput) * 1000;

      const sendOne = (readyAt: number) => {
        const records = issued === totalBatches - 1 ? o.numRecords - issued * perBatch : perBatch;
        const p = prepared[partition];
        partition = (partition + 1) % prepared.length;
        const template = records === perBatch ? p.full : p.tail!;
        issued++;
        requests++;
        if (o.acks === 0) {
          const ok = pipe.sendWithoutResponse(template);
          acked += records;
          window.add(records, records * o.recordSize);
          return ok;
        }
        pipe.send(template, (body) => {
          checkResponse(ProduceApi.decodeResponse(body, o.produceVersion));
          const latency = (performance.now() - readyAt) * 1000;
          histogram.record(latency);
          window.latency.record(latency);
          window.add(records, records * o.recordSize);
          acked += records;
          if (acked >= o.numRecords) finish(null);
          else pump();
        });
        return true;
      };

      // Sends what may be sent now: up to maxInFlight unanswered requests, and, throttled, only batches due.
      const pump = () => {
        if (finished) return;
        while (issued < totalBatches && (o.acks === 0 || pipe.inFlight < o.maxInFlight)) {
          const now = performance.now();
          if (throttled) {
            const due = dueAt(issued);
            if (due > now) {
              clearTimeout(timer);
              timer = setTimeout(pump, Math.max(0, due - now - 0.2));
              return;
            }
            if (!sendOne(due)) break;
          } else if (!sendOne(now)) {
            break;
          }
        }
        if (o.acks === 0) {
          pipe.drained().then(() => {
            if (issued >= totalBatches) finish(null);
            else pump();
          });
        }
      };

      started = performance.now();
      pump();
    });
  } finally {
    pipe.close();
  }
}

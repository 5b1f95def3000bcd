/**
 * The consume load generator (`sluice perf consume`), after Kafka's kafka-consumer-perf-test: reads a
 * topic from given offsets until it has seen --num-records records.
 *
 * It is lean: Fetch responses are decoded by the generated codec (record data stays a view of the
 * response), and records are counted from the batch headers, not decoded one by one. The partitions are
 * spread over up to --max-in-flight concurrent Fetch requests on one connection (a partition's next fetch
 * must wait for its previous answer, so one partition allows one request in flight). With --check-crcs
 * each batch's CRC32C is verified, as Kafka's consumer does by default.
 *
 * Latency is per Fetch request, from send to response.
 */
import { buildFetchRequest } from '../../client/consumer.js';
import { ErrorCode, errorName } from '../../protocol/error-codes.js';
import { FetchApi, type FetchRequest } from '../../protocol/generated/01-fetch.js';
import { hasValidCrc } from '../../records/crc32c.js';
import { Histogram } from './histogram.js';
import { encodeTemplate, RequestPipe } from './request-pipe.js';
import { MB, type PerfSummary, summarizeLatency, Window } from './stats.js';

export interface ConsumePerfOptions {
  host: string;
  port: number;
  topic: string;
  topicId: string;
  /** Negotiated Fetch version. */
  fetchVersion: number;
  /** Where each partition starts. */
  offsets: Map<number, bigint>;
  numRecords: number;
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  maxWaitMs: number;
  maxInFlight: number;
  checkCrcs: boolean;
  /** Give up after this long without a new record. */
  timeoutMs: number;
  clientId?: string;
  onProgress?: (line: string) => void;
  reportingIntervalMs?: number;
}

export interface ConsumePerfSummary extends PerfSummary {
  /** Set when the run stopped early: no new record within timeoutMs. */
  timedOut?: boolean;
}

interface Position {
  partition: number;
  offset: bigint;
}

export async function consumePerf(o: ConsumePerfOptions): Promise<ConsumePerfSummary> {
  const pipe = await RequestPipe.open(o.host, o.port);
  const positions: Position[] = [...o.offsets].map(([partition, offset]) => ({ partition, offset }));
  const slots = Math.max(1, Math.min(o.maxInFlight, positions.length));
  const groups: Position[][] = Array.from({ length: slots }, () => []);
  for (const [i, p] of positions.entries()) groups[i % slots].push(p);

  const histogram = new Histogram();
  const window = new Window();
  let consumed = 0;
  let bytes = 0;
  let requests = 0;
  let started = 0;
  let lastProgress = 0;

  const topicIds = new Map([[o.topic, o.topicId]]);
  const fetchOptions = { maxWaitMs: o.maxWaitMs, maxBytes: o.fetchMaxBytes, partitionMaxBytes: o.partitionMaxBytes };
  const request = (group: Position[]): FetchRequest =>
    buildFetchRequest(
      group.map((p) => ({ topic: o.topic, partition: p.partition, offset: p.offset })),
      topicIds,
      o.fetchVersion,
      fetchOptions,
    );

  /** Counts the whole batches of `records` from `position`, moving it past them; returns records counted. */
  const take = (position: Position, records: Buffer): void => {
    let pos = 0;
    while (records.length - pos >= 61 && consumed < o.numRecords) {
      const size = 12 + records.readInt32BE(pos + 8);
      if (records.length - pos < size) break;
      if (o.checkCrcs && !hasValidCrc(records, pos)) {
        throw new Error(
          `${o.topic}-${position.partition}: batch at offset ${records.readBigInt64BE(pos)} has a bad CRC`,
        );
      }
      const baseOffset = records.readBigInt64BE(pos);
      const lastOffsetDelta = records.readInt32BE(pos + 23);
      const count = records.readInt32BE(pos + 57);
      const next = baseOffset + BigInt(lastOffsetDelta) + 1n;
      if (next > position.offset) {
        // A batch may begin before the fetch offset (a fetch from the middle of a batch): count only the rest.
        const skipped = baseOffset < position.offset ? Number(position.offset - baseOffset) : 0;
        const n = Math.min(Math.max(0, count - skipped), o.numRecords - consumed);
        consumed += n;
        bytes += size;
        window.add(n, size);
        position.offset = next;
      }
      pos += size;
    }
  };

  try {
    return await new Promise<ConsumePerfSummary>((resolve, reject) => {
      let finished = false;
      const progress =
        o.onProgress &&
        setInterval(() => o.onProgress?.(window.line('consumed')), o.reportingIntervalMs ?? 5000).unref();
      const watchdog = setInterval(
        () => {
          if (performance.now() - lastProgress > o.timeoutMs) finish(null, true);
        },
        Math.min(1000, o.timeoutMs),
      ).unref();
      const finish = (err: Error | null, timedOut = false) => {
        if (finished) return;
        finished = true;
        clearInterval(watchdog);
        if (progress) clearInterval(progress);
        if (err) return reject(err);
        const seconds = ((timedOut ? lastProgress : performance.now()) - started) / 1000;
        resolve({
          kind: 'consume',
          topic: o.topic,
          records: consumed,
          bytes,
          requests,
          seconds,
          recordsPerSec: consumed / seconds,
          mbPerSec: bytes / MB / seconds,
          latencyMs: summarizeLatency(histogram),
          ...(timedOut ? { timedOut } : {}),
        });
      };
      pipe.onFail((err) => finish(err));

      const fetch = (group: Position[]) => {
        if (finished) return;
        const sentAt = performance.now();
        requests++;
        const template = encodeTemplate(FetchApi, o.fetchVersion, o.clientId ?? 'sluice-perf', request(group));
        pipe.send(template, (body) => {
          const response = FetchApi.decodeResponse(body, o.fetchVersion);
          const latency = (performance.now() - sentAt) * 1000;
          histogram.record(latency);
          window.latency.record(latency);
          if (response.errorCode !== ErrorCode.NONE) throw new Error(`fetch failed: ${errorName(response.errorCode)}`);
          const before = consumed;
          for (const t of response.responses) {
            for (const p of t.partitions) {
              if (p.errorCode !== ErrorCode.NONE) {
                throw new Error(`fetch from ${o.topic}-${p.partitionIndex} failed: ${errorName(p.errorCode)}`);
              }
              const position = group.find((g) => g.partition === p.partitionIndex);
              if (position && p.records) take(position, p.records);
            }
          }
          if (consumed > before) lastProgress = performance.now();
          if (consumed >= o.numRecords) finish(null);
          else fetch(group);
        });
      };

      started = lastProgress = performance.now();
      for (const group of groups) fetch(group);
    });
  } finally {
    pipe.close();
  }
}

/**
 * Fetch (key 1), v0–v17. Returns stored record batches as they lie in the log, from the batch holding the
 * fetch offset, whole batches only, up to the high watermark. Long-polls: when fewer than min_bytes are
 * available it waits up to max_wait_ms, woken by the partitions' high-watermark changes.
 *
 * - v0–v3 predate record batch v2: as Kafka does, stored batches are down-converted, to magic 0 for v0–v1
 *   and magic 1 (with timestamps, KIP-32) for v2–v3; control batches and headers are dropped, zstd batches
 *   answer UNSUPPORTED_COMPRESSION_TYPE. v1 adds throttle_time_ms.
 * - Before v3 partition_max_bytes is a hard limit: a first message larger than it is sent cut short, the
 *   partial message by which old clients recognise a message too large to fetch. v3 adds the response's
 *   max_bytes (KIP-74) and makes both limits soft: the first message is sent whole.
 * - v4 adds isolation_level, the last stable offset and aborted_transactions: read_committed (1) reads
 *   stop at the last stable offset (the first offset of the oldest undecided transaction, else the high
 *   watermark) and list the aborted transactions overlapping the batches read, from the segments'
 *   `.txnindex`, so the client drops their records; read_uncommitted reads up to the high watermark and
 *   gets aborted_transactions null. Both get the partition's last stable offset, as Kafka answers.
 * - v5 adds log start offsets; v7 fetch sessions (KIP-227): every fetch is answered as a full fetch with
 *   session id 0, which Kafka allows; an incremental request for an unknown session gets
 *   FETCH_SESSION_ID_NOT_FOUND.
 * - v9 adds current_leader_epoch fencing (KIP-320); v11 preferred read replicas (KIP-392; always -1).
 * - v12 is flexible; v13 names topics by id (KIP-516); v15 moves the replica id into replica_state.
 * - max_bytes and partition_max_bytes are honoured, but the first batch of the first non-empty partition
 *   is returned whole even when it is larger, so a consumer can always make progress.
 *
 * The records go to the socket as they were read, by reference. v4+ reads them into pooled memory
 * (`fetchReadPool`), leased per response and given back once the connection wrote it, instead of
 * allocating a megabyte per partition per Fetch for the garbage collector to reclaim.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  defaultFetchResponsePartitionData,
  FetchApi,
  type FetchRequestFetchPartition,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '../../protocol/generated/01-fetch.js';
import { recordsCountOfBatches } from '../../records/batch-header.js';
import { LegacyRecordsError, legacyMessageSetPrefix, toLegacyMessageSet } from '../../records/legacy.js';
import { fetchReadPool, isLogError, type PartitionLog, type ReadLease } from '../../storage/index.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import type { BrokerMetrics } from '../metrics.js';
import { leaderEpochError, logErrorCode } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;

interface Wanted {
  request: FetchRequestFetchPartition;
  out: FetchResponsePartitionData;
  log: PartitionLog | null;
  /** The stored batches last read, before any down-conversion: their headers count the records sent. */
  read?: Buffer;
}

export default defineHandler({
  api: FetchApi,
  minVersion: 0,
  maxVersion: 17,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const response = FetchApi.defaultResponse();
    if (version >= 7) {
      if (request.sessionId !== 0) {
        response.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
        return response;
      }
      if (request.sessionEpoch !== 0 && request.sessionEpoch !== -1) {
        response.errorCode = ErrorCode.INVALID_FETCH_SESSION_EPOCH;
        return response;
      }
    }

    const wanted: Wanted[] = [];
    for (const t of request.topics) {
      const topic = version >= 13 ? broker.topics.getById(t.topicId) : broker.topics.get(t.topic);
      const topicResponse: FetchResponseFetchableTopicResponse = {
        topic: version >= 13 ? '' : t.topic,
        topicId: version >= 13 ? t.topicId : t.topicId,
        partitions: [],
      };
      response.responses.push(topicResponse);
      // Kafka resolves topic ids first: an unknown id stays UNKNOWN_TOPIC_ID, whatever the ACLs say.
      const denied =
        (topic !== undefined || version < 13) &&
        !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, topic?.name ?? t.topic);
      for (const p of t.partitions) {
        const out = defaultFetchResponsePartitionData();
        out.partitionIndex = p.partition;
        out.records = EMPTY;
        topicResponse.partitions.push(out);
        const log = topic ? (broker.partition(topic.name, p.partition) ?? null) : null;
        if (denied) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        } else if (!log) {
          out.errorCode = version >= 13 && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (version >= 9) {
          out.errorCode = leaderEpochError(p.currentLeaderEpoch);
        }
        // A partition that is not read answers unknown offsets (-1), as Kafka does.
        if (out.errorCode !== ErrorCode.NONE) setOffsets(out, -1n, -1n, -1n);
        wanted.push({ request: p, out, log: out.errorCode === ErrorCode.NONE ? log : null });
      }
    }

    const readCommitted = request.isolationLevel === READ_COMMITTED;
    // Kafka's broker-side cap (KIP-541); before v3 the request has no response-wide limit at all.
    // A client under a fetch quota gets at most one quota window's worth, as Kafka caps it.
    const maxBytes = Math.min(
      request.maxBytes,
      broker.config['fetch.max.bytes'] as number,
      broker.quotas.fetchMaxBytes(ctx.connection, ctx.header.clientId),
    );
    const connection = ctx.connection;
    // One Fetch per connection reads at a time, until its response was written: a client that sends many
    // Fetches without reading the answers cannot make the broker hold max_bytes for each of them.
    const endTurn = await takeFetchTurn(connection);
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    const legacy: ReadMode['legacy'] = version >= 4 ? null : { magic: version <= 1 ? 0 : 1, hardLimit: version <= 2 };
    // Down-converted records are copies: only v4+ responses refer to what was read.
    let lease: ReadLease | null = null;
    if (connection.afterResponse) {
      if (version >= 4) lease = fetchReadPool.lease();
      connection.afterResponse(() => {
        lease?.release();
        endTurn();
      });
    }
    for (let pass = 0; ; pass++) {
      if (pass > 0 && lease) {
        // Another pass of a long poll reads every partition again: the memory of the last one can serve it.
        for (const w of wanted) w.out.records = EMPTY;
        lease.release();
        lease = fetchReadPool.lease();
      }
      // The high watermarks are taken before reading: an append during the reads then wakes the wait below.
      const marks = wanted.map((w) => w.log?.highWatermark ?? -1n);
      const { bytes, errors } = await readAll(wanted, maxBytes, { readCommitted, lease, legacy });
      const now = Date.now();
      if (bytes >= request.minBytes || errors || now >= deadline || connection.signal?.aborted) break;
      const moved = wanted.some((w, i) => w.log !== null && w.log.highWatermark !== marks[i]);
      if (!moved) await waitForAppend(wanted, deadline - now, connection.signal);
    }
    // Outside a connection (a handler called directly) nothing writes the response: the turn ends here.
    if (!connection.afterResponse) endTurn();
    if (broker.metrics.enabled) countRecordsOut(broker.metrics, wanted);
    return response;
  },
});

const FETCH_TURN = 'fetch.turn';

/**
 * Waits until the Fetches sent before this one on the connection are done with their memory; returns the
 * call that lets the next one go. Real clients keep one Fetch in flight per connection, so they never wait.
 */
async function takeFetchTurn(connection: { state: Map<string, unknown> }): Promise<() => void> {
  const previous = connection.state.get(FETCH_TURN) as Promise<void> | undefined;
  let end!: () => void;
  const turn = new Promise<void>((resolve) => {
    end = () => {
      if (connection.state.get(FETCH_TURN) === turn) connection.state.delete(FETCH_TURN);
      resolve();
    };
  });
  connection.state.set(FETCH_TURN, turn);
  if (previous) await previous;
  return end;
}

/** How a Fetch reads: v4+ by reference into leased memory, v0–v3 down-converted to a legacy message set. */
interface ReadMode {
  readCommitted: boolean;
  lease: ReadLease | null;
  /** v0–v3: the magic to convert to, and whether partition_max_bytes is a hard limit (before v3). */
  legacy: { magic: 0 | 1; hardLimit: boolean } | null;
}

/** Reads every partition within the request's byte budget; returns the bytes gathered and whether any failed. */
async function readAll(
  wanted: Wanted[],
  maxBytes: number,
  mode: ReadMode,
): Promise<{ bytes: number; errors: boolean }> {
  const hardLimit = mode.legacy?.hardLimit ?? false;
  let bytes = 0;
  let errors = false;
  for (const w of wanted) {
    const { log, out, request } = w;
    if (!log) {
      errors = true;
      continue;
    }
    const budget = Math.max(0, Math.min(request.partitionMaxBytes, maxBytes - bytes));
    out.errorCode = ErrorCode.NONE;
    out.records = EMPTY;
    setOffsets(out, log.highWatermark, log.lastStableOffset, log.logStartOffset);
    if (!mode.legacy) out.abortedTransactions = mode.readCommitted ? [] : null;
    if (budget === 0 && (bytes > 0 || hardLimit)) continue;
    // A hard limit still reads a first batch larger than the budget, to send its first message cut short.
    const result = await log.read(request.fetchOffset, budget, {
      minOneBatch: hardLimit || bytes === 0,
      memory: mode.lease ?? undefined,
      readCommitted: mode.readCommitted && !mode.legacy,
    });
    if (isLogError(result)) {
      out.errorCode = logErrorCode(result);
      // Kafka answers a failed read (OFFSET_OUT_OF_RANGE included) with unknown offsets, not the log's.
      setOffsets(out, -1n, -1n, -1n);
      errors = true;
      continue;
    }
    setOffsets(out, result.highWatermark, result.lastStableOffset, result.logStartOffset);
    if (result.abortedTransactions && !mode.legacy) {
      out.abortedTransactions = result.abortedTransactions.map((t) => ({
        producerId: t.producerId,
        firstOffset: t.firstOffset,
      }));
    }
    w.read = result.records;
    if (!mode.legacy) {
      out.records = result.records;
    } else {
      try {
        out.records = await downConvert(result.records, request.fetchOffset, budget, mode.legacy);
      } catch (err) {
        if (!(err instanceof LegacyRecordsError)) throw err;
        out.errorCode = ErrorCode[err.errorCode];
        errors = true;
        continue;
      }
    }
    bytes += out.records.length;
  }
  return { bytes, errors };
}

/** Per-topic bytes and records sent; the records are counted from the headers of the batches read. */
function countRecordsOut(metrics: BrokerMetrics, wanted: Wanted[]): void {
  for (const { log, out, read } of wanted) {
    if (log === null || read === undefined || out.records === null || out.records.length === 0) continue;
    metrics.topicOut(log.topic, out.records.length, recordsCountOfBatches(read));
  }
}

function setOffsets(
  out: FetchResponsePartitionData,
  highWatermark: bigint,
  lastStableOffset: bigint,
  logStartOffset: bigint,
): void {
  out.highWatermark = highWatermark;
  out.lastStableOffset = lastStableOffset;
  out.logStartOffset = logStartOffset;
}

/**
 * Stored batches as a legacy message set cut at a message boundary within the budget (converted messages
 * are larger than v2 records); under a hard limit a first message too large is sent cut short.
 */
async function downConvert(
  records: Buffer,
  fetchOffset: bigint,
  budget: number,
  legacy: { magic: 0 | 1; hardLimit: boolean },
): Promise<Buffer> {
  const converted = await toLegacyMessageSet(records, legacy.magic, { fetchOffset, maxBytes: budget });
  const whole = legacyMessageSetPrefix(converted, budget, !legacy.hardLimit);
  return whole.length === 0 && legacy.hardLimit ? converted.subarray(0, budget) : whole;
}

/**
 * Resolves when any of the partitions' high watermark moves, after `ms`, or when the connection closes (a
 * client's max_wait_ms may be 24 days: a long poll must not outlive its connection, nor hold the process).
 */
function waitForAppend(wanted: Wanted[], ms: number, closed: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const unwatch: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      for (const u of unwatch) u();
      closed?.removeEventListener('abort', done);
      resolve();
    };
    for (const w of wanted) if (w.log) unwatch.push(w.log.watch(done));
    closed?.addEventListener('abort', done);
    timer = setTimeout(done, ms);
    timer.unref();
  });
}

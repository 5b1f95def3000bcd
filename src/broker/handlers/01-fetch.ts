/**
 * Fetch (key 1), v4–v17. Returns stored record batches as they lie in the log, from the batch holding the
 * fetch offset, whole batches only, up to the high watermark. Long-polls: when fewer than min_bytes are
 * available it waits up to max_wait_ms, woken by the partitions' high-watermark changes.
 *
 * - v4 adds isolation_level and the last stable offset (equal to the high watermark without transactions).
 * - v5 adds log start offsets; v7 fetch sessions (KIP-227): every fetch is answered as a full fetch with
 *   session id 0, which Kafka allows; an incremental request for an unknown session gets
 *   FETCH_SESSION_ID_NOT_FOUND.
 * - v9 adds current_leader_epoch fencing (KIP-320); v11 preferred read replicas (KIP-392; always -1).
 * - v12 is flexible; v13 names topics by id (KIP-516); v15 moves the replica id into replica_state.
 * - max_bytes and partition_max_bytes are honoured, but the first batch of the first non-empty partition
 *   is returned whole even when it is larger, so a consumer can always make progress.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  defaultFetchResponsePartitionData,
  FetchApi,
  type FetchRequestFetchPartition,
  type FetchResponseFetchableTopicResponse,
  type FetchResponsePartitionData,
} from '../../protocol/generated/01-fetch.js';
import { isLogError, type PartitionLog } from '../../storage/index.js';
import { leaderEpochError, logErrorCode } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;

interface Wanted {
  request: FetchRequestFetchPartition;
  out: FetchResponsePartitionData;
  log: PartitionLog | null;
}

export default defineHandler({
  api: FetchApi,
  minVersion: 4,
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
      for (const p of t.partitions) {
        const out = defaultFetchResponsePartitionData();
        out.partitionIndex = p.partition;
        out.records = EMPTY;
        topicResponse.partitions.push(out);
        const log = topic ? (broker.partition(topic.name, p.partition) ?? null) : null;
        if (!log) {
          out.errorCode = version >= 13 && !topic ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        } else if (version >= 9) {
          out.errorCode = leaderEpochError(p.currentLeaderEpoch);
        }
        wanted.push({ request: p, out, log: out.errorCode === ErrorCode.NONE ? log : null });
      }
    }

    const readCommitted = request.isolationLevel === READ_COMMITTED;
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    for (;;) {
      // The high watermarks are taken before reading: an append during the reads then wakes the wait below.
      const marks = wanted.map((w) => w.log?.highWatermark ?? -1n);
      const { bytes, errors } = await readAll(wanted, request.maxBytes, readCommitted);
      const now = Date.now();
      if (bytes >= request.minBytes || errors || now >= deadline) break;
      const moved = wanted.some((w, i) => w.log !== null && w.log.highWatermark !== marks[i]);
      if (!moved) await waitForAppend(wanted, deadline - now);
    }
    return response;
  },
});

/** Reads every partition within the request's byte budget; returns the bytes gathered and whether any failed. */
async function readAll(
  wanted: Wanted[],
  maxBytes: number,
  readCommitted: boolean,
): Promise<{ bytes: number; errors: boolean }> {
  let bytes = 0;
  let errors = false;
  for (const w of wanted) {
    const { log, out, request } = w;
    if (!log) {
      errors = true;
      continue;
    }
    const budget = Math.min(request.partitionMaxBytes, maxBytes - bytes);
    out.errorCode = ErrorCode.NONE;
    out.records = EMPTY;
    out.highWatermark = log.highWatermark;
    out.lastStableOffset = log.highWatermark;
    out.logStartOffset = log.logStartOffset;
    out.abortedTransactions = readCommitted ? [] : null;
    if (budget <= 0 && bytes > 0) continue;
    const result = await log.read(request.fetchOffset, Math.max(budget, 0), { minOneBatch: bytes === 0 });
    if (isLogError(result)) {
      out.errorCode = logErrorCode(result);
      errors = true;
      continue;
    }
    out.highWatermark = result.highWatermark;
    out.lastStableOffset = result.highWatermark;
    out.logStartOffset = result.logStartOffset;
    out.records = result.records;
    bytes += result.records.length;
  }
  return { bytes, errors };
}

/** Resolves when any of the partitions' high watermark moves, or after `ms`. */
function waitForAppend(wanted: Wanted[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const unwatch: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      for (const u of unwatch) u();
      resolve();
    };
    for (const w of wanted) if (w.log) unwatch.push(w.log.watch(done));
    timer = setTimeout(done, ms);
  });
}

/**
 * Produce (key 0), v0–v11. Record batches stay bytes: the log validates each batch (sizes, magic, CRC, the
 * framing of uncompressed records), sets its max timestamp from the records' (CreateTime topics), patches
 * its base offset and leader epoch in place and appends it; no key or value is decoded. A compressed batch
 * is decompressed only when its header max timestamp is unset, to set it.
 *
 * - v0–v2 carry legacy message sets (magic 0, and magic 1 from v2 with timestamps, KIP-32). As Kafka does,
 *   they are up-converted to one record batch v2 (same codec) and appended like any batch. Serving v0 also
 *   matters to librdkafka < 2.11.1: it compresses gzip, snappy and lz4 only if the broker's Produce range
 *   starts at 0. v1 adds throttle_time_ms, v2 log_append_time_ms.
 * - v3 brings record batch v2 (magic 2) and transactional ids; from v3 a legacy message set is refused with
 *   INVALID_RECORD, as Kafka refuses it.
 * - v5 answers the log start offset; v7 allows zstd batches (KIP-110).
 * - v8 adds record_errors and error_message (KIP-467).
 * - v9 is flexible; v10 adds current-leader hints (KIP-951), unused by a single broker.
 * - acks: 0 gets no response at all (an error closes the connection instead, so the producer notices);
 *   1 is answered once the write reached the operating system; -1 once it is fsynced (group commit).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import {
  defaultProduceResponsePartitionProduceResponse,
  ProduceApi,
  type ProduceRequestPartitionProduceData,
  type ProduceResponsePartitionProduceResponse,
} from '../../protocol/generated/00-produce.js';
import {
  batchSizeAt,
  CompressionType,
  CURRENT_MAGIC,
  compressionOf,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  recordsCountOf,
} from '../../records/batch-header.js';
import { firstMagicOf, LegacyRecordsError, legacyToRecordBatch } from '../../records/legacy.js';
import {
  firstKeylessRecord,
  needsMaxTimestampFromRecords,
  setCompressedMaxTimestamp,
} from '../../records/validate-records.js';
import { type Acks, isCompacted, isLogError, type LogError, type PartitionLog } from '../../storage/index.js';
import { AclOperation, authorize, ResourceType } from '../authorizer.js';
import type { BrokerServices } from '../handler-context.js';
import { logErrorCode, lookupPartition } from '../partition-lookup.js';
import { defineHandler } from '../registry.js';
import { topicNameError } from '../topics.js';

export default defineHandler({
  api: ProduceApi,
  minVersion: 0,
  maxVersion: 11,
  async handle(request, ctx) {
    const { broker, version } = ctx;
    const acks = request.acks;
    const response = ProduceApi.defaultResponse();
    // Most requests write one partition: its append is awaited alone, without an array and Promise.all.
    let appending: Promise<void> | null = null;
    let pending: Array<Promise<void>> | null = null;
    // Kafka refuses a whole transactional produce whose transactional id the client may not write.
    const txnDenied =
      request.transactionalId !== null &&
      !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId);
    for (const topicData of request.topicData) {
      const topicDenied = txnDenied || !authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, topicData.name);
      const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
      response.responses.push({ name: topicData.name, partitionResponses });
      for (const data of topicData.partitionData) {
        const out = defaultProduceResponsePartitionProduceResponse();
        out.index = data.index;
        partitionResponses.push(out);
        if (acks !== 0 && acks !== 1 && acks !== -1) {
          fail(out, ErrorCode.INVALID_REQUIRED_ACKS);
          continue;
        }
        if (topicDenied) {
          fail(out, txnDenied ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : ErrorCode.TOPIC_AUTHORIZATION_FAILED);
          continue;
        }
        const done = appendOne(
          broker,
          version,
          topicData.name,
          data,
          acks,
          request.timeoutMs,
          out,
          ctx.connection.signal,
        );
        if (done === null) continue;
        if (appending === null) appending = done;
        else (pending ??= [appending]).push(done);
      }
    }
    if (pending !== null) await Promise.all(pending);
    else if (appending !== null) await appending;
    // Kafka answers per partition: a topic sent without partitions has no place in its answer.
    if (response.responses.some((t) => t.partitionResponses.length === 0)) {
      response.responses = response.responses.filter((t) => t.partitionResponses.length > 0);
    }
    if (acks === 0) {
      const failed = response.responses.flatMap((t) =>
        t.partitionResponses
          .filter((p) => p.errorCode !== ErrorCode.NONE)
          .map((p) => `${t.name}-${p.index}: ${ErrorCode[p.errorCode]}`),
      );
      // Kafka closes the connection of an acks=0 producer whose write failed: it is the only signal it gets.
      if (failed.length > 0) ctx.connection.close(`acks=0 produce failed (${failed.join(', ')})`);
      return null;
    }
    return response;
  },
});

function fail(out: ProduceResponsePartitionProduceResponse, code: ErrorCode, message: string | null = null): null {
  out.errorCode = code;
  out.errorMessage = message;
  // Kafka answers a failed partition with unknown offsets (-1), not the defaults of the schema.
  out.baseOffset = -1n;
  out.logAppendTimeMs = -1n;
  out.logStartOffset = -1n;
  return null;
}

/**
 * Checks one partition's data and starts its append, filling `out`. Returns the append to wait for, or
 * null when the partition was answered at once (an error found before any write).
 */
function appendOne(
  broker: BrokerServices,
  version: number,
  topic: string,
  data: ProduceRequestPartitionProduceData,
  acks: Acks,
  timeoutMs: number,
  out: ProduceResponsePartitionProduceResponse,
  closed: AbortSignal | undefined,
): Promise<void> | null {
  const nameError = topicNameError(topic);
  // Produce never creates topics, so Kafka answers an invalid name as it answers any topic it does not have.
  if (nameError) return fail(out, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, nameError);
  const found = lookupPartition(broker, topic, data.index);
  if (!found.log) return fail(out, found.errorCode);
  if (broker.topics.get(topic)?.internal) {
    return fail(out, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic}`);
  }
  const records = data.records;
  if (records === null || records.length === 0) {
    return fail(out, ErrorCode.INVALID_RECORD, 'Produce request has no records');
  }
  const w: PartitionWrite = {
    broker,
    version,
    topic,
    partition: data.index,
    log: found.log,
    acks,
    timeoutMs,
    out,
    closed,
  };
  if (version < 3 && firstMagicOf(records) !== CURRENT_MAGIC) return appendLegacy(w, records);
  if (records.length >= LOG_OVERHEAD && batchSizeAt(records, 0) < records.length) {
    // One batch per partition (Kafka rejects more); a bad length is left to validation.
    return fail(out, ErrorCode.INVALID_RECORD, 'Produce requests must contain exactly one record batch per partition');
  }
  if (version < 7 && records.length >= RECORD_BATCH_OVERHEAD && compressionOf(records) === CompressionType.Zstd) {
    // KIP-110: a client that can send zstd speaks Produce v7; an older request with zstd is refused, as Kafka does.
    return fail(
      out,
      ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests with version ${version} are not allowed to use ZStandard compression`,
    );
  }
  return append(w, records);
}

/** One partition's write: where it goes, how it is acknowledged, and the answer it fills. */
interface PartitionWrite {
  broker: BrokerServices;
  version: number;
  topic: string;
  partition: number;
  log: PartitionLog;
  acks: Acks;
  timeoutMs: number;
  out: ProduceResponsePartitionProduceResponse;
  /** Aborted when the request's connection closes. */
  closed: AbortSignal | undefined;
}

/** A legacy message set becomes one v2 batch; Kafka accepts a v2 batch in old versions too, as above. */
async function appendLegacy(w: PartitionWrite, records: Buffer): Promise<void> {
  let batch: Buffer;
  try {
    batch = await legacyToRecordBatch(records);
  } catch (err) {
    if (err instanceof LegacyRecordsError) {
      fail(w.out, ErrorCode[err.errorCode], err.message);
      return;
    }
    throw err;
  }
  await append(w, batch);
}

async function append(w: PartitionWrite, records: Buffer): Promise<void> {
  const { log, acks, timeoutMs, out, closed } = w;
  // The first batch's size as it claims it (0 when too short to say): the steps below check it against the
  // bytes themselves, and the log's validation refuses a batch whose framing is wrong.
  const size = records.length >= LOG_OVERHEAD ? batchSizeAt(records, 0) : 0;
  if (log.config.messageTimestampType === 'CreateTime' && needsMaxTimestampFromRecords(records)) {
    // A compressed batch whose header max timestamp is unset: the log's check walks uncompressed records
    // only, so this one is decompressed here (off the event loop) to set it, as Kafka's LogValidator does.
    const settled = await setCompressedMaxTimestamp(records, size);
    if (!settled.ok) {
      fail(out, ErrorCode[settled.error], settled.message);
      return;
    }
  }
  const keyless = isCompacted(log.config) ? await firstKeylessRecord(records, size) : -1;
  if (keyless >= 0) {
    // Kafka's LogValidator: compaction keeps records by key, so a compacted topic refuses records without one.
    fail(
      out,
      ErrorCode.INVALID_RECORD,
      `Compacted topic cannot accept message without key in topic partition ${w.topic}-${w.partition}.`,
    );
    if (w.version >= 8) out.recordErrors = [{ batchIndex: keyless, batchIndexErrorMessage: out.errorMessage }];
    return;
  }
  const appending = log.append(records, { acks });
  const result = acks === -1 && timeoutMs > 0 ? await withTimeout(appending, timeoutMs, closed) : await appending;
  if (result === 'timeout') {
    fail(out, ErrorCode.REQUEST_TIMED_OUT, `The write was not fsynced within ${timeoutMs} ms`);
    return;
  }
  if (isLogError(result)) {
    failAppend(w, result);
    return;
  }
  w.broker.metrics.topicIn(w.topic, records.length, recordsCountOf(records));
  out.baseOffset = result.baseOffset;
  out.logAppendTimeMs = result.logAppendTime;
  out.logStartOffset = result.logStartOffset;
}

function failAppend({ broker, version, topic, partition, log, out }: PartitionWrite, err: LogError): void {
  if (err.errorCode === 'KAFKA_STORAGE_ERROR') {
    // A topic deleted while this append waited closes its logs: the partition is gone, not the disk.
    if (broker.partition(topic, partition) !== log) {
      fail(out, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      return;
    }
    broker.logger.error({ topic, partition, err: err.message }, 'append failed: storage error');
  }
  // The log refuses magic 0/1 batches; in a v3+ request Kafka calls that an invalid record.
  if (err.errorCode === 'UNSUPPORTED_FOR_MESSAGE_FORMAT' && version >= 3) {
    fail(
      out,
      ErrorCode.INVALID_RECORD,
      `Produce requests with version ${version} are only allowed to contain record batches with magic version 2`,
    );
    return;
  }
  fail(out, logErrorCode(err), err.message);
}

/**
 * `p`, or 'timeout' after `ms` or once the connection closes: the answer of a closed connection is dropped,
 * and its timer must not keep a stopping broker alive. The append itself goes on either way.
 */
function withTimeout<T>(p: Promise<T>, ms: number, closed: AbortSignal | undefined): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  let onClose: (() => void) | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    onClose = () => resolve('timeout');
    if (closed?.aborted) return onClose();
    closed?.addEventListener('abort', onClose);
    timer = setTimeout(onClose, ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => {
    clearTimeout(timer);
    if (onClose) closed?.removeEventListener('abort', onClose);
  });
}

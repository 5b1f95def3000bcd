/**
 * Per-partition log settings: Kafka's topic-level configs in camelCase, with Kafka's defaults. The broker
 * maps its `log.*` properties onto the defaults and each topic's overrides onto a partition's config.
 */

export type CleanupPolicy = 'delete' | 'compact';
export type TimestampTypeName = 'CreateTime' | 'LogAppendTime';

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll the active segment once it is this old (at the next append). */
  segmentMs: number;
  /** segment.index.bytes: the largest an offset or time index may grow; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** retention.ms: delete segments whose newest record is older than this; -1 keeps them forever. */
  retentionMs: number;
  /** retention.bytes: delete the oldest segments while the log is bigger than this; -1 means no limit. */
  retentionBytes: number;
  /** index.interval.bytes: bytes of log between two offset index entries. */
  indexIntervalBytes: number;
  /**
   * flush.messages: fsync after this many messages. Left at its default (never), Sluice fsyncs every
   * append by group commit and acknowledges acks=all after the fsync; any other value relaxes that.
   */
  flushMessages: number;
  /** flush.ms: fsync when data has waited this long. Same default and meaning as flushMessages. */
  flushMs: number;
  /** max.message.bytes: the largest record batch accepted, with its 12-byte log overhead. */
  maxMessageBytes: number;
  /** message.timestamp.type. */
  messageTimestampType: TimestampTypeName;
  /** cleanup.policy; retention deletes segments only when it includes 'delete'. */
  cleanupPolicy: readonly CleanupPolicy[];
  /** min.cleanable.dirty.ratio: a compacted log is cleaned once this share of it is dirty (not yet cleaned). */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: records younger than this stay uncompacted. */
  minCompactionLagMs: number;
  /**
   * max.compaction.lag.ms: a dirty record older than this makes its log cleanable whatever its dirty ratio,
   * and rolls the active segment (a compacted log's segment.ms is at most this). COMPACTION_LAG_NEVER: no limit.
   */
  maxCompactionLagMs: number;
  /** delete.retention.ms: how long a tombstone (null value) stays after its batch was first cleaned. */
  deleteRetentionMs: number;
}

/** Kafka's default max.compaction.lag.ms is Long.MAX_VALUE: no limit. */
export const COMPACTION_LAG_NEVER = Number.MAX_SAFE_INTEGER;

/**
 * Kafka's "never" for flush.messages and flush.ms is Long.MAX_VALUE; any value at or above this bound
 * (the largest integer a JS number holds exactly) counts as the default.
 */
export const FLUSH_NEVER = Number.MAX_SAFE_INTEGER;

export function defaultLogConfig(): LogConfig {
  return {
    segmentBytes: 1024 * 1024 * 1024,
    segmentMs: 7 * 24 * 60 * 60 * 1000,
    segmentIndexBytes: 10 * 1024 * 1024,
    retentionMs: 7 * 24 * 60 * 60 * 1000,
    retentionBytes: -1,
    indexIntervalBytes: 4096,
    flushMessages: FLUSH_NEVER,
    flushMs: FLUSH_NEVER,
    maxMessageBytes: 1024 * 1024 + 12,
    messageTimestampType: 'CreateTime',
    cleanupPolicy: ['delete'],
    minCleanableDirtyRatio: 0.5,
    minCompactionLagMs: 0,
    maxCompactionLagMs: COMPACTION_LAG_NEVER,
    deleteRetentionMs: 24 * 60 * 60 * 1000,
  };
}

/** Whether the log is compacted (cleanup.policy compact, alone or with delete). */
export function isCompacted(config: LogConfig): boolean {
  return config.cleanupPolicy.includes('compact');
}

/**
 * The age at which the active segment rolls: segment.ms, or for a compacted log with a
 * max.compaction.lag.ms, the smaller of both, so the cleaner can reach its records in time (Kafka's maxSegmentMs).
 */
export function rollMs(config: LogConfig): number {
  return isCompacted(config) && config.maxCompactionLagMs > 0
    ? Math.min(config.segmentMs, config.maxCompactionLagMs)
    : config.segmentMs;
}

/** Whether the config keeps Sluice's default durability: fsync (group commit) before acks=all and the HWM. */
export function fsyncsEveryAppend(config: LogConfig): boolean {
  return config.flushMessages >= FLUSH_NEVER && config.flushMs >= FLUSH_NEVER;
}

export function mergeLogConfig(base: LogConfig, overrides: Partial<LogConfig> | undefined): LogConfig {
  const merged: LogConfig = { ...base };
  if (overrides) {
    for (const [key, value] of Object.entries(overrides)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

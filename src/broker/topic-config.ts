/**
 * Topic-level configuration: Kafka's topic config names, each defaulting to a broker setting, validated the
 * same way. A topic stores only its overrides; the effective value is override ?? broker default.
 */
import { type BrokerConfig, ConfigError, parseConfigValue, retentionMs, segmentMs } from './config.js';

export interface TopicConfigDefinition {
  /** The broker setting this topic config defaults to (Kafka's "synonym"). */
  brokerKey: string | null;
  /** Validates like this broker setting (same kind and range). */
  validateAs: string;
  defaultValue(config: BrokerConfig): string;
  sensitive?: boolean;
}

const fromBroker = (brokerKey: string): TopicConfigDefinition => ({
  brokerKey,
  validateAs: brokerKey,
  defaultValue: (c) => stringify(c[brokerKey as keyof BrokerConfig]),
});

function stringify(v: unknown): string {
  if (v === null || v === undefined) return '';
  return Array.isArray(v) ? v.join(',') : String(v);
}

export const TOPIC_CONFIGS: Record<string, TopicConfigDefinition> = {
  'cleanup.policy': fromBroker('log.cleanup.policy'),
  'retention.ms': {
    brokerKey: 'log.retention.ms',
    validateAs: 'log.retention.ms',
    defaultValue: (c) => String(retentionMs(c)),
  },
  'retention.bytes': fromBroker('log.retention.bytes'),
  'segment.bytes': fromBroker('log.segment.bytes'),
  'segment.ms': { brokerKey: 'log.roll.ms', validateAs: 'log.roll.ms', defaultValue: (c) => String(segmentMs(c)) },
  'segment.index.bytes': fromBroker('log.index.size.max.bytes'),
  'index.interval.bytes': fromBroker('log.index.interval.bytes'),
  'flush.messages': {
    brokerKey: 'log.flush.interval.messages',
    validateAs: 'log.flush.interval.messages',
    // Kafka's default is Long.MAX_VALUE ("never"); Sluice's default is an fsync before every acks=all answer.
    defaultValue: (c) => stringify(c['log.flush.interval.messages'] ?? '9223372036854775807'),
  },
  'flush.ms': {
    brokerKey: 'log.flush.interval.ms',
    validateAs: 'log.flush.interval.ms',
    defaultValue: (c) => stringify(c['log.flush.interval.ms'] ?? '9223372036854775807'),
  },
  'max.message.bytes': fromBroker('message.max.bytes'),
  'message.timestamp.type': fromBroker('log.message.timestamp.type'),
  'min.insync.replicas': { brokerKey: null, validateAs: 'num.partitions', defaultValue: () => '1' },
  'min.cleanable.dirty.ratio': fromBroker('log.cleaner.min.cleanable.ratio'),
  'delete.retention.ms': fromBroker('log.cleaner.delete.retention.ms'),
  'min.compaction.lag.ms': fromBroker('log.cleaner.min.compaction.lag.ms'),
  'max.compaction.lag.ms': {
    brokerKey: 'log.cleaner.max.compaction.lag.ms',
    validateAs: 'log.cleaner.max.compaction.lag.ms',
    // Kafka's default is Long.MAX_VALUE: no limit.
    defaultValue: (c) => stringify(c['log.cleaner.max.compaction.lag.ms'] ?? LONG_MAX_TEXT),
  },
};

/** Java's Long.MAX_VALUE, Kafka's "never" for flush.* and max.compaction.lag.ms. */
const LONG_MAX_TEXT = '9223372036854775807';

/** Validates topic config overrides; returns normalized strings or throws ConfigError naming the key. */
export function validateTopicConfigs(configs: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(configs)) {
    const def = TOPIC_CONFIGS[key];
    if (!def) throw new ConfigError(`unknown topic config "${key}"`);
    if (value === null) continue;
    // Kafka's "never" sentinel is accepted as is.
    if (
      (key === 'flush.messages' || key === 'flush.ms' || key === 'max.compaction.lag.ms') &&
      value.trim() === LONG_MAX_TEXT
    ) {
      out[key] = value.trim();
      continue;
    }
    try {
      out[key] = stringify(parseConfigValue(def.validateAs, value));
    } catch (err) {
      throw new ConfigError((err as Error).message.replace(`"${def.validateAs}"`, `"${key}"`));
    }
  }
  // Kafka's LogConfig refuses a minimum compaction lag above the maximum.
  const minLag = out['min.compaction.lag.ms'];
  const maxLag = out['max.compaction.lag.ms'];
  if (minLag !== undefined && maxLag !== undefined && BigInt(minLag) > BigInt(maxLag)) {
    throw new ConfigError(
      `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`,
    );
  }
  return out;
}

/** The effective value of every topic config: the topic's override or the broker default. */
export function effectiveTopicConfigs(
  overrides: Record<string, string>,
  config: BrokerConfig,
): Record<string, { value: string; isDefault: boolean }> {
  const out: Record<string, { value: string; isDefault: boolean }> = {};
  for (const [key, def] of Object.entries(TOPIC_CONFIGS)) {
    const o = overrides[key];
    out[key] = o !== undefined ? { value: o, isDefault: false } : { value: def.defaultValue(config), isDefault: true };
  }
  return out;
}

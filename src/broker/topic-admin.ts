/**
 * Topic and broker configuration as DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and
 * CreatePartitions see it: each config with its value, where the value comes from (Kafka's ConfigSource),
 * its synonyms and type; the checks each resource of an AlterConfigs or IncrementalAlterConfigs request
 * goes through; replacing or editing a topic's overrides; growing a topic. Changes reach the
 * topic registry (on disk) and the open partition logs.
 *
 * Changes to one broker's topics run one at a time: each awaits the registry's write, and two requests
 * interleaving there could otherwise lose one another's change.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { SLUICE_VERSION, SLUICE_VERSION_CONFIG } from '../version.js';
import { CONFIG_DEFINITIONS, ConfigError } from './config.js';
import { ConfigSource } from './config-source.js';
import type { BrokerServices } from './handler-context.js';
import { TOPIC_CONFIGS, validateTopicConfigs } from './topic-config.js';
import type { TopicInfo } from './topics.js';

/** Kafka's ConfigResource.Type codes. */
export enum ConfigResourceType {
  UNKNOWN = 0,
  TOPIC = 2,
  BROKER = 4,
  BROKER_LOGGER = 8,
}

/** Kafka's ConfigEntry.ConfigType codes (DescribeConfigs v3+). */
export enum ConfigType {
  UNKNOWN = 0,
  BOOLEAN = 1,
  STRING = 2,
  INT = 3,
  SHORT = 4,
  LONG = 5,
  DOUBLE = 6,
  LIST = 7,
  CLASS = 8,
  PASSWORD = 9,
}

/** IncrementalAlterConfigs operations (KIP-339). */
export enum ConfigOperation {
  SET = 0,
  DELETE = 1,
  APPEND = 2,
  SUBTRACT = 3,
}

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: ConfigSource;
  sensitive: boolean;
  type: ConfigType;
  documentation: string | null;
  /** Where the value could come from, strongest first (the entry itself included when set). */
  synonyms: Array<{ name: string; value: string | null; source: ConfigSource }>;
}

export interface AdminOutcome {
  errorCode: ErrorCode;
  errorMessage: string | null;
}

const OK: AdminOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };

type Definition = { kind: string; default: unknown; doc: string; sensitive?: boolean };
const DEFINITIONS = CONFIG_DEFINITIONS as Record<string, Definition>;

/** The broker settings a topic config falls back to, strongest first (Kafka's synonyms). */
const BROKER_SYNONYMS: Record<string, string[]> = {
  'retention.ms': ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  'segment.ms': ['log.roll.ms', 'log.roll.hours'],
};

const TOPIC_TYPES: Record<string, ConfigType> = {
  'cleanup.policy': ConfigType.LIST,
  'retention.ms': ConfigType.LONG,
  'retention.bytes': ConfigType.LONG,
  'segment.bytes': ConfigType.INT,
  'segment.ms': ConfigType.LONG,
  'segment.index.bytes': ConfigType.INT,
  'index.interval.bytes': ConfigType.INT,
  'flush.messages': ConfigType.LONG,
  'flush.ms': ConfigType.LONG,
  'max.message.bytes': ConfigType.INT,
  'message.timestamp.type': ConfigType.STRING,
  'min.insync.replicas': ConfigType.INT,
  'min.cleanable.dirty.ratio': ConfigType.DOUBLE,
  'delete.retention.ms': ConfigType.LONG,
  'min.compaction.lag.ms': ConfigType.LONG,
  'max.compaction.lag.ms': ConfigType.LONG,
};

const TOPIC_DOCS: Record<string, string> = {
  'cleanup.policy': 'delete (drop old segments), compact (keep the last record per key), or both.',
  'retention.ms': 'How long a segment is kept before deletion; -1 keeps it forever.',
  'retention.bytes': 'Largest size of a partition before old segments are deleted; -1 is unlimited.',
  'segment.bytes': 'Size at which a segment file rolls.',
  'segment.ms': 'Age at which a segment rolls even if not full.',
  'segment.index.bytes': 'Size of the offset and time index files of a segment.',
  'index.interval.bytes': 'Bytes of records between two offset index entries.',
  'flush.messages': 'Records written between two fsyncs.',
  'flush.ms': 'Time between two fsyncs.',
  'max.message.bytes': 'Largest record batch the broker accepts for this topic.',
  'message.timestamp.type': 'CreateTime (the producer’s) or LogAppendTime (the broker’s).',
  'min.insync.replicas': 'In-sync replicas needed for acks=all (one broker: 1).',
  'min.cleanable.dirty.ratio': 'Share of a compacted log not yet cleaned at which the cleaner cleans it.',
  'delete.retention.ms': 'How long a tombstone stays in a compacted log once its batch was cleaned.',
  'min.compaction.lag.ms': 'Records younger than this are not compacted.',
  'max.compaction.lag.ms': 'Records older than this are compacted whatever the dirty ratio.',
};

function stringify(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** A broker setting's value, and whether it was set (differs from the built-in default) or is the default. */
function brokerSetting(broker: BrokerServices, key: string): { value: string | null; source: ConfigSource } {
  const value = stringify((broker.config as Record<string, unknown>)[key]);
  const dflt = stringify(DEFINITIONS[key]?.default);
  return { value, source: value === dflt ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG };
}

function typeOfKind(kind: string): ConfigType {
  switch (kind) {
    case 'int':
      return ConfigType.INT;
    case 'long':
      return ConfigType.LONG;
    case 'double':
      return ConfigType.DOUBLE;
    case 'boolean':
      return ConfigType.BOOLEAN;
    case 'list':
      return ConfigType.LIST;
    default:
      return ConfigType.STRING;
  }
}

/** Every topic config of `topic` (or only `keys`), overrides first in their own right. */
export function describeTopicConfigs(
  broker: BrokerServices,
  topic: TopicInfo,
  keys: string[] | null,
): DescribedConfig[] {
  const effective = broker.effectiveTopicConfigs(topic);
  const out: DescribedConfig[] = [];
  for (const name of Object.keys(TOPIC_CONFIGS)) {
    if (keys !== null && !keys.includes(name)) continue;
    const def = TOPIC_CONFIGS[name];
    const synonyms: DescribedConfig['synonyms'] = [];
    const override = topic.configs[name];
    if (override !== undefined) synonyms.push({ name, value: override, source: ConfigSource.TOPIC_CONFIG });
    const brokerKeys = BROKER_SYNONYMS[name] ?? (def.brokerKey ? [def.brokerKey] : []);
    for (const key of brokerKeys) {
      const setting = brokerSetting(broker, key);
      if (setting.value !== null) synonyms.push({ name: key, ...setting });
    }
    const source =
      override !== undefined ? ConfigSource.TOPIC_CONFIG : (synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG);
    out.push({
      name,
      value: def.sensitive ? null : effective[name].value,
      readOnly: false,
      source,
      sensitive: def.sensitive ?? false,
      type: TOPIC_TYPES[name] ?? ConfigType.STRING,
      documentation: TOPIC_DOCS[name] ?? (def.brokerKey ? (DEFINITIONS[def.brokerKey]?.doc ?? null) : null),
      synonyms,
    });
  }
  return out;
}

/** Every broker setting (or only `keys`): static in Sluice, so all read-only. */
export function describeBrokerConfigs(broker: BrokerServices, keys: string[] | null): DescribedConfig[] {
  const out: DescribedConfig[] = [];
  for (const [name, def] of Object.entries(DEFINITIONS)) {
    if (keys !== null && !keys.includes(name)) continue;
    const setting = brokerSetting(broker, name);
    const sensitive = def.sensitive === true || name.includes('password');
    out.push({
      name,
      value: sensitive ? null : setting.value,
      readOnly: true,
      source: setting.source,
      sensitive,
      type: sensitive ? ConfigType.PASSWORD : typeOfKind(def.kind),
      documentation: def.doc,
      synonyms: [{ name, value: sensitive ? null : setting.value, source: setting.source }],
    });
  }
  // Not a setting: how `sluice cluster info` tells a Sluice broker and its version from a Kafka broker, which
  // describes no such key. A default, so that listings of overridden settings leave it out.
  if (keys === null || keys.includes(SLUICE_VERSION_CONFIG)) {
    const source = ConfigSource.DEFAULT_CONFIG;
    out.push({
      name: SLUICE_VERSION_CONFIG,
      value: SLUICE_VERSION,
      readOnly: true,
      source,
      sensitive: false,
      type: ConfigType.STRING,
      documentation: 'The version of Sluice this broker runs (read-only; not a setting).',
      synonyms: [{ name: SLUICE_VERSION_CONFIG, value: SLUICE_VERSION, source }],
    });
  }
  return out;
}

/** Why a broker resource name is not this broker ('' means the cluster-wide default, also this broker). */
export function brokerResourceError(broker: BrokerServices, resourceName: string): string | null {
  if (resourceName === '' || resourceName === String(broker.nodeId)) return null;
  return `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${resourceName}`;
}

/** A resource of an AlterConfigs or IncrementalAlterConfigs request: both carry the same fields. */
export interface AlterConfigsResource {
  resourceType: number;
  resourceName: string;
  configs: Array<{ name: string }>;
}

/** The answer for one resource, the same in AlterConfigs and IncrementalAlterConfigs responses. */
export interface AlterConfigsResourceResult extends AdminOutcome {
  resourceType: number;
  resourceName: string;
}

/**
 * What AlterConfigs and IncrementalAlterConfigs share: each resource, in request order, is checked (named
 * twice in the request, a key named twice, a broker or another type Sluice cannot change: all
 * INVALID_REQUEST) and a topic is handed to `alterTopic`. The two APIs word a repeated key differently,
 * as Kafka does, hence `duplicateKeyMessage`. `refusal` answers the authorization error of a resource
 * the client may not alter (NONE when it may), checked after the duplicate resources, as Kafka does.
 */
export async function alterConfigResources<R extends AlterConfigsResource>(
  broker: BrokerServices,
  resources: R[],
  duplicateKeyMessage: (key: string) => string,
  alterTopic: (resource: R) => Promise<AdminOutcome>,
  refusal: (resource: R) => ErrorCode = () => ErrorCode.NONE,
): Promise<AlterConfigsResourceResult[]> {
  const seen = new Map<string, number>();
  for (const r of resources) {
    const id = `${r.resourceType}\0${r.resourceName}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const results: AlterConfigsResourceResult[] = [];
  for (const resource of resources) {
    let outcome: AdminOutcome;
    let denied: ErrorCode;
    const names = resource.configs.map((c) => c.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if ((seen.get(`${resource.resourceType}\0${resource.resourceName}`) ?? 0) > 1) {
      outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate resource in the request' };
    } else if ((denied = refusal(resource)) !== ErrorCode.NONE) {
      outcome = { errorCode: denied, errorMessage: null };
    } else if (duplicate !== undefined) {
      outcome = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: duplicateKeyMessage(duplicate) };
    } else if (resource.resourceType === ConfigResourceType.TOPIC) {
      outcome = await alterTopic(resource);
    } else if (resource.resourceType === ConfigResourceType.BROKER) {
      outcome = {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage:
          brokerResourceError(broker, resource.resourceName) ??
          'Broker settings cannot be changed while Sluice runs: restart it with --override KEY=VALUE',
      };
    } else {
      outcome = {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `Sluice does not alter configs of resource type ${resource.resourceType}; use 2 (topic)`,
      };
    }
    results.push({
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
    });
  }
  return results;
}

/**
 * Runs `change` after every earlier topic change of this broker (creations, deletions, config and
 * partition changes) has finished: one queue, so no two of them interleave their awaits.
 */
export function serializeTopicChange<T>(broker: BrokerServices, change: () => Promise<T>): Promise<T> {
  return broker.changeTopics(change);
}

/**
 * Replaces a topic's overrides with `configs` (validated first); unless `validateOnly`, stores them and
 * hands the new effective config to every partition log of the topic.
 */
export function replaceTopicConfigs(
  broker: BrokerServices,
  topicName: string,
  configs: Record<string, string | null>,
  validateOnly: boolean,
): Promise<AdminOutcome> {
  return serializeTopicChange(broker, () => applyOverrides(broker, topicName, configs, validateOnly));
}

async function applyOverrides(
  broker: BrokerServices,
  topicName: string,
  configs: Record<string, string | null>,
  validateOnly: boolean,
): Promise<AdminOutcome> {
  // Kafka validates the configs before it looks the topic up: an invalid config on an unknown topic is INVALID_CONFIG.
  let validated: Record<string, string>;
  try {
    validated = validateTopicConfigs(configs);
  } catch (err) {
    if (err instanceof ConfigError) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err.message };
    throw err;
  }
  const topic = broker.topics.get(topicName);
  if (!topic)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${topicName}' does not exist` };
  if (validateOnly) return OK;
  const updated = await broker.topics.update(topicName, { configs: validated });
  const logConfig = broker.logConfig(updated);
  for (let p = 0; p < updated.partitions; p++) broker.partition(topicName, p)?.updateConfig(logConfig);
  broker.logger.info({ topic: topicName, configs: validated }, 'changed topic configs');
  return OK;
}

/**
 * Applies IncrementalAlterConfigs operations to a topic's current overrides. APPEND and SUBTRACT work on
 * list configs only and start from the effective value (the broker default when there is no override).
 */
export function alterTopicConfigsIncrementally(
  broker: BrokerServices,
  topicName: string,
  ops: Array<{ name: string; operation: number; value: string | null }>,
  validateOnly: boolean,
): Promise<AdminOutcome> {
  return serializeTopicChange(broker, async () => {
    const next = applyOperations(broker, topicName, ops);
    if ('errorCode' in next) return next;
    return applyOverrides(broker, topicName, next.configs, validateOnly);
  });
}

function applyOperations(
  broker: BrokerServices,
  topicName: string,
  ops: Array<{ name: string; operation: number; value: string | null }>,
): AdminOutcome | { configs: Record<string, string | null> } {
  // Kafka checks the config names before it looks the topic up: an unknown name on an unknown topic is INVALID_CONFIG.
  const unknown = ops.find((op) => !TOPIC_CONFIGS[op.name]);
  if (unknown)
    return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown topic config name: ${unknown.name}` };
  const topic = broker.topics.get(topicName);
  if (!topic)
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${topicName}' does not exist` };
  const next: Record<string, string | null> = { ...topic.configs };
  const effective = broker.effectiveTopicConfigs(topic);
  for (const op of ops) {
    switch (op.operation) {
      case ConfigOperation.SET:
        if (op.value === null)
          return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for: ${op.name}` };
        next[op.name] = op.value;
        break;
      case ConfigOperation.DELETE:
        delete next[op.name];
        break;
      case ConfigOperation.APPEND:
      case ConfigOperation.SUBTRACT: {
        if (TOPIC_TYPES[op.name] !== ConfigType.LIST) {
          const verb = op.operation === ConfigOperation.APPEND ? 'append' : 'subtract';
          return {
            errorCode: ErrorCode.INVALID_CONFIG,
            errorMessage: `Config value ${verb} is not allowed for config key: ${op.name}`,
          };
        }
        const current = (next[op.name] ?? effective[op.name].value).split(',').filter((s) => s !== '');
        const given = (op.value ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const result =
          op.operation === ConfigOperation.APPEND
            ? [...current, ...given.filter((v) => !current.includes(v))]
            : current.filter((v) => !given.includes(v));
        next[op.name] = result.join(',');
        break;
      }
      default:
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown config operation ${op.operation}` };
    }
  }
  return { configs: next };
}

/**
 * Grows a topic to `count` partitions and opens the new partition logs. `assignments`, when given, must
 * place each new partition on this broker alone.
 */
export async function createPartitions(
  broker: BrokerServices,
  topicName: string,
  count: number,
  assignments: Array<{ brokerIds: number[] }> | null,
  validateOnly: boolean,
): Promise<AdminOutcome> {
  return serializeTopicChange(broker, async () => {
    const topic = broker.topics.get(topicName);
    if (!topic)
      return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${topicName}' does not exist` };
    if (topic.internal)
      return {
        errorCode: ErrorCode.INVALID_REQUEST,
        errorMessage: `${topicName} is an internal topic; its partition count cannot change`,
      };
    if (count < topic.partitions)
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${count}.`,
      };
    if (count === topic.partitions)
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Topic already has ${topic.partitions} partitions.`,
      };
    if (count > 100_000)
      return {
        errorCode: ErrorCode.INVALID_PARTITIONS,
        errorMessage: `Number of partitions must be at most 100000, got ${count}`,
      };
    if (assignments !== null) {
      const added = count - topic.partitions;
      const valid =
        assignments.length === added &&
        assignments.every((a) => a.brokerIds.length === 1 && a.brokerIds[0] === broker.nodeId);
      if (!valid)
        return {
          errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          errorMessage: `Give ${added} assignments, each naming broker ${broker.nodeId} alone`,
        };
    }
    if (validateOnly) return OK;
    const from = topic.partitions;
    const updated = await broker.topics.update(topicName, { partitions: count });
    const config = broker.logConfig(updated);
    for (let p = from; p < count; p++) {
      await broker.logs.getOrCreate(topicName, p, { topicId: updated.topicId, config });
    }
    broker.logger.info({ topic: topicName, from, to: count }, 'added partitions');
    return OK;
  });
}

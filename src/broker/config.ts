/**
 * Broker configuration, with Apache Kafka's property names and, where they fit a single broker, its defaults.
 *
 * Sources, later overriding earlier: built-in defaults, a `server.properties` file, environment variables
 * (`SLUICE_LOG_DIRS` sets `log.dirs`), and explicit overrides (`--override key=value`, `startBroker({ config })`).
 * Unknown keys and invalid values fail start-up with one message naming every such key and what it accepts.
 * Kafka settings that mean nothing on a single Sluice broker (thread counts, KRaft controller settings,
 * replication factors of one) are accepted and named in one warning, so Kafka's stock server.properties
 * loads as it is.
 */
import { readFile } from 'node:fs/promises';
import { parseJaasConfig } from '../network/sasl/jaas.js';
import { parsePrincipalMappingRules } from '../network/ssl-principal.js';

type Kind = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'enum';

interface Definition {
  kind: Kind;
  default: string | number | boolean | string[] | null;
  doc: string;
  min?: number;
  max?: number;
  values?: readonly string[];
  /** A secret: DescribeConfigs answers null for it, and it never appears in logs. */
  sensitive?: boolean;
  /** An empty string means unset (Kafka's empty default), rather than an invalid value. */
  emptyIsNull?: boolean;
}

const INT_MAX = 2147483647;

/** The SASL mechanisms a listener can offer. */
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** Kafka's security protocols: whether a listener speaks TLS, and whether it asks for SASL. */
export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** Settings that may also be given for one listener, as `listener.name.<listener>.<setting>`. */
const PER_LISTENER_SETTINGS = new Set([
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.key.password',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.client.auth',
  'ssl.enabled.protocols',
  'ssl.principal.mapping.rules',
  'sasl.enabled.mechanisms',
  'connections.max.reauth.ms',
]);
const LISTENER_PREFIX = /^listener\.name\.([A-Za-z0-9_]+)\.(.+)$/;
/** `<mechanism>.sasl.jaas.config` under a listener prefix: the JAAS login module of one mechanism. */
const JAAS_KEY = /^(plain|scram-sha-256|scram-sha-512|oauthbearer)\.sasl\.jaas\.config$/;
/**
 * Kafka needs OAuthBearerValidatorCallbackHandler named as OAUTHBEARER's server callback handler to check
 * tokens against a JWKS; Sluice always does, and accepts the setting so that Kafka's configuration loads.
 */
const OAUTH_HANDLER_KEY = /^oauthbearer\.sasl\.server\.callback\.handler\.class$/;
const LONG_MAX = Number.MAX_SAFE_INTEGER;

/** Every setting the broker knows. Values are kept as JS numbers: ms and byte sizes stay below 2^53. */
export const CONFIG_DEFINITIONS = {
  'node.id': { kind: 'int', default: 1, min: 0, max: INT_MAX, doc: 'This broker’s id in metadata responses.' },
  'controller.listener.names': {
    kind: 'list',
    default: ['CONTROLLER'],
    doc: 'Listeners that belong to a KRaft controller: accepted in listeners and advertised.listeners, not served.',
  },
  'cluster.id': {
    kind: 'string',
    default: null,
    doc: 'Cluster id; generated on first start and kept in meta.properties.',
  },
  listeners: {
    kind: 'list',
    default: ['PLAINTEXT://127.0.0.1:9092'],
    doc: 'Listeners to bind, as NAME://host:port (port 0 picks a free port).',
  },
  'advertised.listeners': {
    kind: 'list',
    default: null,
    doc: 'Addresses given to clients in metadata; defaults to the bound listeners.',
  },
  'metadata.etcd.endpoints': {
    kind: 'list',
    default: null,
    doc: 'host:port of etcd endpoints; when set, the broker joins the cluster kept there (see docs/skipped-features.md, Cluster).',
  },
  'broker.rack': { kind: 'string', default: null, doc: 'Rack of this broker, given to clients in metadata.' },
  'broker.session.timeout.ms': {
    kind: 'int',
    default: 9000,
    min: 1000,
    max: INT_MAX,
    doc: 'With etcd: how long a broker that stops renewing its lease stays registered (etcd counts whole seconds).',
  },
  'admin.http.listener': {
    kind: 'string',
    default: null,
    doc: 'host:port of the admin HTTP listener serving /metrics and /health; off when unset.',
  },
  'log.dirs': { kind: 'list', default: ['./data'], doc: 'Directory holding the partition logs (the first is used).' },
  'num.partitions': { kind: 'int', default: 1, min: 1, max: 100000, doc: 'Partitions of an auto-created topic.' },
  'default.replication.factor': {
    kind: 'int',
    default: 1,
    min: 1,
    max: 1,
    doc: 'Replication factor of auto-created topics (single broker: 1).',
  },
  'auto.create.topics.enable': {
    kind: 'boolean',
    default: true,
    doc: 'Create a topic when a client asks for an unknown one in Metadata.',
  },
  'delete.topic.enable': { kind: 'boolean', default: true, doc: 'Allow DeleteTopics.' },
  'log.retention.hours': { kind: 'int', default: 168, min: -1, max: INT_MAX, doc: 'Retention time in hours.' },
  'log.retention.minutes': {
    kind: 'int',
    default: null,
    min: -1,
    max: INT_MAX,
    doc: 'Retention time in minutes; overrides hours.',
  },
  'log.retention.ms': {
    kind: 'long',
    default: null,
    min: -1,
    max: LONG_MAX,
    doc: 'Retention time in ms; overrides minutes and hours. -1 keeps forever.',
  },
  'log.retention.bytes': {
    kind: 'long',
    default: -1,
    min: -1,
    max: LONG_MAX,
    doc: 'Maximum size of a partition before old segments are deleted; -1 is unlimited.',
  },
  'log.retention.check.interval.ms': {
    kind: 'long',
    default: 300000,
    min: 1,
    max: LONG_MAX,
    doc: 'How often retention runs.',
  },
  'log.segment.bytes': {
    kind: 'int',
    default: 1073741824,
    min: 14,
    max: INT_MAX,
    doc: 'Size at which a segment rolls.',
  },
  'log.roll.hours': { kind: 'int', default: 168, min: 1, max: INT_MAX, doc: 'Age at which a segment rolls, in hours.' },
  'log.roll.ms': {
    kind: 'long',
    default: null,
    min: 1,
    max: LONG_MAX,
    doc: 'Age at which a segment rolls; overrides hours.',
  },
  'log.index.interval.bytes': {
    kind: 'int',
    default: 4096,
    min: 0,
    max: INT_MAX,
    doc: 'Bytes of log between two offset index entries.',
  },
  'log.index.size.max.bytes': {
    kind: 'int',
    default: 10485760,
    min: 4,
    max: INT_MAX,
    doc: 'Maximum size of an offset index.',
  },
  'log.flush.interval.messages': {
    kind: 'long',
    default: null,
    min: 1,
    max: LONG_MAX,
    doc: 'Relaxes durability: fsync every N messages instead of before each acks=all answer.',
  },
  'log.flush.interval.ms': {
    kind: 'long',
    default: null,
    min: 0,
    max: LONG_MAX,
    doc: 'Relaxes durability: fsync every N ms instead of before each acks=all answer.',
  },
  'log.cleanup.policy': {
    kind: 'list',
    default: ['delete'],
    values: ['delete', 'compact'],
    doc: 'Default cleanup policy of topics.',
  },
  'log.cleaner.enable': {
    kind: 'boolean',
    default: true,
    doc: 'Run the log cleaner, which compacts topics with cleanup.policy=compact.',
  },
  'log.cleaner.threads': {
    kind: 'int',
    default: 1,
    min: 0,
    max: INT_MAX,
    doc: 'Cleaner threads (accepted; Sluice cleans one log at a time, in one worker thread).',
  },
  'log.cleaner.backoff.ms': {
    kind: 'long',
    default: 15000,
    min: 0,
    max: LONG_MAX,
    doc: 'Pause of the cleaner when no log needs cleaning.',
  },
  'log.cleaner.io.max.bytes.per.second': {
    kind: 'double',
    default: 1.7976931348623157e308,
    min: 0,
    doc: 'Cap on the bytes the cleaner reads and writes per second.',
  },
  'log.cleaner.dedupe.buffer.size': {
    kind: 'long',
    default: 134217728,
    min: 0,
    max: LONG_MAX,
    doc: 'Memory for the cleaner’s key → offset map (24 bytes a key).',
  },
  'log.cleaner.io.buffer.size': {
    kind: 'int',
    default: 524288,
    min: 0,
    max: INT_MAX,
    doc: 'Bytes the cleaner reads at a time.',
  },
  'log.cleaner.io.buffer.load.factor': {
    kind: 'double',
    default: 0.9,
    min: 0,
    max: 1,
    doc: 'How full the cleaner’s key → offset map may get.',
  },
  'log.cleaner.min.cleanable.ratio': {
    kind: 'double',
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'Default min.cleanable.dirty.ratio of topics.',
  },
  'log.cleaner.delete.retention.ms': {
    kind: 'long',
    default: 86400000,
    min: 0,
    max: LONG_MAX,
    doc: 'Default delete.retention.ms of topics (how long tombstones stay).',
  },
  'log.cleaner.min.compaction.lag.ms': {
    kind: 'long',
    default: 0,
    min: 0,
    max: LONG_MAX,
    doc: 'Default min.compaction.lag.ms of topics.',
  },
  'log.cleaner.max.compaction.lag.ms': {
    kind: 'long',
    default: null,
    min: 1,
    max: LONG_MAX,
    doc: 'Default max.compaction.lag.ms of topics (unset: no limit, Kafka’s Long.MAX_VALUE).',
  },
  'log.message.timestamp.type': {
    kind: 'enum',
    default: 'CreateTime',
    values: ['CreateTime', 'LogAppendTime'],
    doc: 'Whether records keep the producer’s timestamp or get the broker’s.',
  },
  'message.max.bytes': {
    kind: 'int',
    default: 1048588,
    min: 0,
    max: INT_MAX,
    doc: 'Largest record batch the broker accepts.',
  },
  'socket.request.max.bytes': {
    kind: 'int',
    default: 104857600,
    min: 1,
    max: INT_MAX,
    doc: 'Largest request the broker reads; a larger one closes the connection.',
  },
  'fetch.max.bytes': {
    kind: 'int',
    default: 57671680,
    min: 1024,
    max: INT_MAX,
    doc: 'Most record bytes in one Fetch response, whatever the request asks (the first batch is sent whole).',
  },
  'max.connections': { kind: 'int', default: INT_MAX, min: 0, max: INT_MAX, doc: 'Most connections at once.' },
  'max.connections.per.ip': {
    kind: 'int',
    default: INT_MAX,
    min: 0,
    max: INT_MAX,
    doc: 'Most connections from one address; 0 allows only the addresses named in max.connections.per.ip.overrides.',
  },
  'max.connections.per.ip.overrides': {
    kind: 'string',
    default: null,
    emptyIsNull: true,
    doc: 'Per-address exceptions to max.connections.per.ip, as host:count,… (host names are resolved at start).',
  },
  'max.connection.creation.rate': {
    kind: 'int',
    default: INT_MAX,
    min: 0,
    max: INT_MAX,
    doc: 'Most new connections accepted per second (KIP-612); faster ones wait to be accepted.',
  },
  'quota.window.num': {
    kind: 'int',
    default: 11,
    min: 1,
    max: INT_MAX,
    doc: 'Sample windows a client quota rate is measured over.',
  },
  'quota.window.size.seconds': {
    kind: 'int',
    default: 1,
    min: 1,
    max: INT_MAX,
    doc: 'Length of one client quota sample window, in seconds.',
  },
  'connections.max.idle.ms': {
    kind: 'long',
    default: 600000,
    min: -1,
    max: LONG_MAX,
    doc: 'Idle connections are closed after this long; -1 never.',
  },
  'queued.max.requests': {
    kind: 'int',
    default: 500,
    min: 1,
    max: INT_MAX,
    doc: 'Unanswered requests per connection before the broker stops reading from it.',
  },
  'offsets.topic.num.partitions': {
    kind: 'int',
    default: 50,
    min: 1,
    max: 10000,
    doc: 'Partitions of __consumer_offsets.',
  },
  'producer.id.expiration.ms': {
    kind: 'int',
    default: 86400000,
    min: 1,
    max: INT_MAX,
    doc: 'How long a partition remembers an idempotent producer that stopped writing to it.',
  },
  'producer.id.expiration.check.interval.ms': {
    kind: 'int',
    default: 600000,
    min: 1,
    max: INT_MAX,
    doc: 'How often idle producer ids are expired.',
  },
  'offsets.topic.segment.bytes': {
    kind: 'int',
    default: 104857600,
    min: 1,
    max: INT_MAX,
    doc: 'segment.bytes of __consumer_offsets (small segments let compaction reclaim space sooner).',
  },
  'offsets.retention.minutes': {
    kind: 'int',
    default: 10080,
    min: 1,
    max: INT_MAX,
    doc: 'How long committed offsets of an empty group are kept.',
  },
  'group.initial.rebalance.delay.ms': {
    kind: 'int',
    default: 3000,
    min: 0,
    max: INT_MAX,
    doc: 'Delay before the first rebalance of an empty group, to let members join.',
  },
  'group.min.session.timeout.ms': {
    kind: 'int',
    default: 6000,
    min: 0,
    max: INT_MAX,
    doc: 'Smallest session timeout a member may ask for.',
  },
  'group.max.session.timeout.ms': {
    kind: 'int',
    default: 1800000,
    min: 0,
    max: INT_MAX,
    doc: 'Largest session timeout a member may ask for.',
  },
  'group.max.size': { kind: 'int', default: INT_MAX, min: 1, max: INT_MAX, doc: 'Most members in one group.' },
  'listener.security.protocol.map': {
    kind: 'list',
    default: ['PLAINTEXT:PLAINTEXT', 'SSL:SSL', 'SASL_PLAINTEXT:SASL_PLAINTEXT', 'SASL_SSL:SASL_SSL'],
    doc: 'Security protocol of each listener name, as NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL).',
  },
  'ssl.keystore.type': {
    kind: 'enum',
    default: 'PEM',
    values: ['PEM', 'PKCS12'],
    doc: 'Format of the key store (JKS is not read).',
  },
  'ssl.keystore.location': {
    kind: 'string',
    default: null,
    doc: 'File with the private key and certificate chain (PEM) or a PKCS12 key store; reloaded when it changes.',
  },
  'ssl.keystore.password': {
    kind: 'string',
    default: null,
    sensitive: true,
    doc: 'Password of a PKCS12 key store.',
  },
  'ssl.keystore.key': {
    kind: 'string',
    default: null,
    sensitive: true,
    doc: 'The private key in PEM, given inline instead of ssl.keystore.location.',
  },
  'ssl.keystore.certificate.chain': {
    kind: 'string',
    default: null,
    doc: 'The certificate chain in PEM, given inline with ssl.keystore.key.',
  },
  'ssl.key.password': {
    kind: 'string',
    default: null,
    sensitive: true,
    doc: 'Password of an encrypted private key.',
  },
  'ssl.truststore.type': { kind: 'enum', default: 'PEM', values: ['PEM'], doc: 'Format of the trust store.' },
  'ssl.truststore.location': {
    kind: 'string',
    default: null,
    doc: 'PEM file of the CA certificates client certificates must chain to; reloaded when it changes.',
  },
  'ssl.truststore.certificates': {
    kind: 'string',
    default: null,
    doc: 'The trusted CA certificates in PEM, given inline instead of ssl.truststore.location.',
  },
  'ssl.client.auth': {
    kind: 'enum',
    default: 'none',
    values: ['required', 'requested', 'none'],
    doc: 'Whether TLS clients must (required) or may (requested) present a certificate.',
  },
  'ssl.enabled.protocols': {
    kind: 'list',
    default: ['TLSv1.2', 'TLSv1.3'],
    values: ['TLSv1.2', 'TLSv1.3'],
    doc: 'TLS versions accepted.',
  },
  'ssl.principal.mapping.rules': {
    kind: 'string',
    default: 'DEFAULT',
    doc: 'Rules mapping a client certificate’s subject to a principal name: DEFAULT or RULE:pattern/replacement/[LU], comma-separated.',
  },
  'sasl.enabled.mechanisms': {
    kind: 'list',
    default: ['SCRAM-SHA-256', 'SCRAM-SHA-512'],
    values: SASL_MECHANISMS,
    doc: 'SASL mechanisms offered on SASL listeners.',
  },
  'authorizer.class.name': {
    kind: 'string',
    default: null,
    doc: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer turns ACL checks on; empty allows every request.',
  },
  'super.users': {
    kind: 'string',
    default: null,
    doc: 'Principals every ACL check allows, separated by semicolons (User:admin;User:ops).',
  },
  'allow.everyone.if.no.acl.found': {
    kind: 'boolean',
    default: false,
    doc: 'Allow a request on a resource no ACL matches (with the authorizer on).',
  },
  'sasl.oauthbearer.jwks.endpoint.url': {
    kind: 'string',
    default: null,
    doc: 'JWKS file (file: URL or path) whose keys verify OAUTHBEARER tokens; read again when it changes.',
  },
  'sasl.oauthbearer.expected.audience': {
    kind: 'list',
    default: null,
    doc: 'Audiences an OAUTHBEARER token must name one of (aud claim); any when unset.',
  },
  'sasl.oauthbearer.expected.issuer': {
    kind: 'string',
    default: null,
    doc: 'Issuer an OAUTHBEARER token must name (iss claim); any when unset.',
  },
  'sasl.oauthbearer.sub.claim.name': {
    kind: 'string',
    default: 'sub',
    doc: 'The claim of an OAUTHBEARER token that names its principal.',
  },
  'sasl.oauthbearer.clock.skew.seconds': {
    kind: 'int',
    default: 30,
    min: 0,
    max: INT_MAX,
    doc: 'Clock difference allowed when checking an OAUTHBEARER token’s exp and nbf.',
  },
  'connections.max.reauth.ms': {
    kind: 'long',
    default: 0,
    min: 0,
    max: LONG_MAX,
    doc: 'Lifetime of a SASL session (KIP-368): a client must re-authenticate within it; 0 disables.',
  },
  'connection.failed.authentication.delay.ms': {
    kind: 'int',
    default: 100,
    min: 0,
    max: INT_MAX,
    doc: 'How long the answer to a failed authentication is held back before the connection closes.',
  },
  'group.consumer.session.timeout.ms': {
    kind: 'int',
    default: 45000,
    min: 1,
    max: INT_MAX,
    doc: 'KIP-848 consumer groups: a member without a heartbeat this long is fenced and its partitions move.',
  },
  'group.consumer.heartbeat.interval.ms': {
    kind: 'int',
    default: 5000,
    min: 1,
    max: INT_MAX,
    doc: 'KIP-848 consumer groups: how often members are told to heartbeat.',
  },
  'group.consumer.assignors': {
    kind: 'list',
    default: ['uniform', 'range'],
    doc: 'KIP-848 consumer groups: server-side assignors (uniform, range); the first is the default.',
  },
  'group.consumer.max.size': {
    kind: 'int',
    default: INT_MAX,
    min: 1,
    max: INT_MAX,
    doc: 'KIP-848 consumer groups: most members in one group.',
  },
  'metrics.internal.topics.enable': {
    kind: 'boolean',
    default: false,
    doc: 'Export per-partition series of internal topics (__consumer_offsets has 50 partitions) at /metrics.',
  },
} as const satisfies Record<string, Definition>;

/**
 * Kafka settings that have no effect on one Sluice broker. They are validated (a typo in a value still
 * fails) and then ignored, with one warning naming them. Replication factors and min.isr accept only 1:
 * a larger value asks for copies one broker cannot keep (Kafka itself would leave the internal topic
 * uncreated, or refuse acks=all writes), and an operator who wrote it should hear so at start-up.
 */
const SINGLE_BROKER = 'Sluice is a single broker, so only 1 can be met';
export const INERT_KAFKA_SETTINGS: Record<string, Definition & { why?: string }> = {
  'process.roles': { kind: 'list', default: null, values: ['broker', 'controller'], doc: 'KRaft roles.' },
  'controller.quorum.bootstrap.servers': { kind: 'list', default: null, doc: 'KRaft controller quorum.' },
  'controller.quorum.voters': { kind: 'list', default: null, doc: 'KRaft controller quorum.' },
  'inter.broker.listener.name': { kind: 'string', default: null, doc: 'Listener between brokers.' },
  'sasl.mechanism.inter.broker.protocol': { kind: 'string', default: null, doc: 'SASL mechanism between brokers.' },
  'security.inter.broker.protocol': { kind: 'string', default: null, doc: 'Security protocol between brokers.' },
  'num.network.threads': { kind: 'int', default: 3, min: 1, max: INT_MAX, doc: 'Network threads.' },
  'num.io.threads': { kind: 'int', default: 8, min: 1, max: INT_MAX, doc: 'Request handler threads.' },
  'num.replica.fetchers': { kind: 'int', default: 1, min: 1, max: INT_MAX, doc: 'Replica fetcher threads.' },
  'background.threads': { kind: 'int', default: 10, min: 1, max: INT_MAX, doc: 'Background threads.' },
  'num.recovery.threads.per.data.dir': { kind: 'int', default: 2, min: 1, max: INT_MAX, doc: 'Recovery threads.' },
  'socket.send.buffer.bytes': { kind: 'int', default: 102400, min: -1, max: INT_MAX, doc: 'SO_SNDBUF.' },
  'socket.receive.buffer.bytes': { kind: 'int', default: 102400, min: -1, max: INT_MAX, doc: 'SO_RCVBUF.' },
  'offsets.topic.replication.factor': single('Replication factor of __consumer_offsets.'),
  'transaction.state.log.replication.factor': single('Replication factor of __transaction_state.'),
  'transaction.state.log.min.isr': single('min.insync.replicas of __transaction_state.'),
  'share.coordinator.state.topic.replication.factor': single('Replication factor of __share_group_state.'),
  'share.coordinator.state.topic.min.isr': single('min.insync.replicas of __share_group_state.'),
  'min.insync.replicas': single('Default min.insync.replicas of topics.'),
};

function single(doc: string): Definition & { why: string } {
  return { kind: 'int', default: 1, min: 1, max: 1, doc, why: SINGLE_BROKER };
}

/** Old names Kafka still reads for a setting. */
const ALIASES: Record<string, string> = { 'log.dir': 'log.dirs', 'broker.id': 'node.id' };

export type ConfigKey = keyof typeof CONFIG_DEFINITIONS;
export type ConfigValue = string | number | boolean | string[] | null;
export type BrokerConfig = { readonly [K in ConfigKey]: ConfigValue };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describeRange(key: string, def: Definition): string {
  switch (def.kind) {
    case 'int':
    case 'long':
      return `an integer in [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]`;
    case 'double':
      return `a number in [${def.min ?? '-inf'}, ${def.max ?? 'inf'}]`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${def.values?.join(', ')}`;
    case 'list':
      return def.values ? `a comma-separated list of ${def.values.join(', ')}` : 'a comma-separated list';
    default:
      return key === 'cluster.id' ? 'a non-empty string' : 'a string';
  }
}

/** Parses one textual value for `key`, throwing a ConfigError that names the key and the valid range. */
export function parseConfigValue(key: string, raw: string | number | boolean | string[] | null): ConfigValue {
  const def: (Definition & { why?: string }) | undefined =
    (CONFIG_DEFINITIONS as Record<string, Definition>)[key] ?? INERT_KAFKA_SETTINGS[key];
  if (!def) throw new ConfigError(`unknown setting "${key}" (see 'sluice start --help' for the list)`);
  if (raw === null) return null;
  const bad = () =>
    new ConfigError(
      `invalid value ${def.sensitive ? '(hidden)' : JSON.stringify(raw)} for "${key}": ${def.why ?? `expected ${describeRange(key, def)}`}`,
    );
  switch (def.kind) {
    case 'int':
    case 'long': {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) throw bad();
      const n = Number(text);
      if (!Number.isSafeInteger(n) || (def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max))
        throw bad();
      return n;
    }
    case 'double': {
      const text = String(raw).trim();
      if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw bad();
      const n = Number(text);
      if (!Number.isFinite(n) || (def.min !== undefined && n < def.min) || (def.max !== undefined && n > def.max))
        throw bad();
      return n;
    }
    case 'boolean': {
      const text = String(raw).trim().toLowerCase();
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw bad();
    }
    case 'enum': {
      const text = String(raw).trim();
      if (!def.values?.includes(text)) throw bad();
      return text;
    }
    case 'list': {
      const items = Array.isArray(raw)
        ? raw.map(String)
        : String(raw)
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
      if (items.length === 0) throw bad();
      if (def.values && !items.every((i) => def.values?.includes(i))) throw bad();
      return items;
    }
    default: {
      const text = String(raw).trim();
      if (text.length === 0 && def.emptyIsNull) return null;
      if (text.length === 0) throw bad();
      return text;
    }
  }
}

/** Parses Java-style `.properties` text: `key=value` or `key: value`, `#`/`!` comments, trailing-`\` continuations. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`cannot parse properties line ${i + 1}: ${JSON.stringify(line)}`);
    out.set(m[1], m[2]);
  }
  return out;
}

/** `SLUICE_LOG_DIRS` → `log.dirs`: environment variables with the SLUICE_ prefix that name a known setting. */
export function configFromEnv(env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  const known = new Map(Object.keys(CONFIG_DEFINITIONS).map((k) => [k.replaceAll('.', '_').toUpperCase(), k]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SLUICE_') || value === undefined) continue;
    const key = known.get(name.slice('SLUICE_'.length));
    // Other SLUICE_* variables (e.g. SLUICE_LOG_LEVEL) belong to the CLI, not to broker settings.
    if (key) out.set(key, value);
  }
  return out;
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, string | number | boolean | string[] | null>;
}

/** Where a setting's value came from. */
export type ConfigOrigin = 'default' | 'file' | 'env' | 'override';

export interface ConfigLayer {
  origin: ConfigOrigin;
  values: Map<string, unknown>;
}

export interface LoadedConfig {
  config: BrokerConfig;
  /** The origin of every setting that did not keep its default. */
  origins: Map<ConfigKey, Exclude<ConfigOrigin, 'default'>>;
  /** Kafka settings given that have no effect here. */
  ignored: string[];
  /** What an operator should hear at start-up: settings accepted that do nothing, risky addresses. */
  warnings: string[];
}

/** Builds the effective configuration: defaults < file < env < overrides. */
export async function loadConfig(sources: ConfigSources = {}): Promise<BrokerConfig> {
  return (await resolveConfig(sources)).config;
}

/** Like loadConfig, and says where each setting came from and what deserves a warning. */
export async function resolveConfig(sources: ConfigSources = {}): Promise<LoadedConfig> {
  const layers: ConfigLayer[] = [];
  if (sources.file) {
    let text: string;
    try {
      text = await readFile(sources.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${sources.file}: ${(err as Error).message}`);
    }
    layers.push({ origin: 'file', values: parseProperties(text) });
  }
  if (sources.env) layers.push({ origin: 'env', values: configFromEnv(sources.env) });
  if (sources.overrides) layers.push({ origin: 'override', values: new Map(Object.entries(sources.overrides)) });
  return resolveLayers(layers);
}

export function buildConfig(layers: Array<Map<string, unknown>>): BrokerConfig {
  return resolveLayers(layers.map((values) => ({ origin: 'override', values }))).config;
}

/**
 * Applies the layers over the defaults. Every unknown key and invalid value is gathered into one
 * ConfigError, so an operator fixes a file in one pass rather than one key per start.
 */
export function resolveLayers(layers: ConfigLayer[]): LoadedConfig {
  const config: Record<string, ConfigValue> = {};
  for (const [key, def] of Object.entries(CONFIG_DEFINITIONS)) config[key] = def.default as ConfigValue;
  const origins = new Map<ConfigKey, Exclude<ConfigOrigin, 'default'>>();
  const ignored = new Map<string, ConfigValue>();
  const unknown: string[] = [];
  const invalid: string[] = [];
  for (const { origin, values } of layers) {
    for (const [rawKey, value] of values) {
      const key = ALIASES[rawKey] ?? rawKey;
      const perListener = LISTENER_PREFIX.exec(key);
      if (perListener) {
        const problem = setListenerSetting(config, key, perListener[1], perListener[2], value as ConfigValue);
        if (problem === 'unknown') {
          if (!unknown.includes(key)) unknown.push(key);
        } else if (problem !== null) invalid.push(problem);
        else if (origin !== 'default')
          origins.set(`listener.name.${perListener[1].toLowerCase()}.${perListener[2]}` as ConfigKey, origin);
        continue;
      }
      const known = Object.hasOwn(CONFIG_DEFINITIONS, key);
      if (!known && !Object.hasOwn(INERT_KAFKA_SETTINGS, key)) {
        if (!unknown.includes(key)) unknown.push(key);
        continue;
      }
      try {
        const parsed = parseConfigValue(key, value as ConfigValue);
        if (known) {
          config[key] = parsed;
          if (origin !== 'default') origins.set(key as ConfigKey, origin);
        } else {
          ignored.set(key, parsed);
        }
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        invalid.push(err.message);
      }
    }
  }
  const problems = [...invalid];
  if (unknown.length === 1)
    problems.unshift(`unknown setting "${unknown[0]}" (see 'sluice start --help' for the list)`);
  else if (unknown.length > 1)
    problems.unshift(
      `unknown settings ${unknown.map((k) => `"${k}"`).join(', ')} (see 'sluice start --help' for the list)`,
    );
  const result = config as BrokerConfig;
  if (problems.length === 0) problems.push(...listenerProblems(result));
  if (problems.length === 0) problems.push(...connectionLimitProblems(result));
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  const inert = [...ignored.keys()];
  return { config: result, origins, ignored: inert, warnings: configWarnings(result, inert) };
}

/**
 * `max.connections.per.ip.overrides` as Kafka reads it: `host:count` entries separated by commas, each
 * count a non-negative int. Throws a ConfigError naming the entry that does not parse.
 */
export function parseMaxConnectionsPerIpOverrides(text: string | null): Map<string, number> {
  const overrides = new Map<string, number>();
  if (text === null) return overrides;
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    // The count follows the last colon, so IPv6 addresses (which contain colons) can be named too.
    const colon = entry.lastIndexOf(':');
    const host = entry.slice(0, colon).trim();
    const count = entry.slice(colon + 1).trim();
    if (colon < 0 || host === '' || !/^\d+$/.test(count) || Number(count) > INT_MAX)
      throw new ConfigError(
        `invalid value ${JSON.stringify(text)} for "max.connections.per.ip.overrides": entry ${JSON.stringify(entry.trim())} is not host:count (a count from 0 to ${INT_MAX})`,
      );
    overrides.set(host, Number(count));
  }
  return overrides;
}

/** The per-IP connection limits are checked together, as Kafka checks them. */
function connectionLimitProblems(config: BrokerConfig): string[] {
  let overrides: Map<string, number>;
  try {
    overrides = parseMaxConnectionsPerIpOverrides(config['max.connections.per.ip.overrides'] as string | null);
  } catch (err) {
    return [(err as Error).message];
  }
  if (config['max.connections.per.ip'] === 0 && overrides.size === 0)
    return [
      'max.connections.per.ip is 0, which refuses every client: set it to 0 only with max.connections.per.ip.overrides naming the addresses allowed to connect',
    ];
  return [];
}

/** Listeners that fail to parse, or leave no listener for clients, fail start-up. */
function listenerProblems(config: BrokerConfig): string[] {
  const problems: string[] = [];
  for (const key of ['listeners', 'advertised.listeners'] as const) {
    for (const text of (config[key] as string[] | null) ?? []) {
      try {
        parseListener(text);
      } catch (err) {
        problems.push(`${key}: ${(err as Error).message}`);
      }
    }
  }
  if (problems.length > 0) return problems;
  if (servedListeners(config).length === 0)
    problems.push(
      `listeners has no listener for clients: ${(config.listeners as string[]).join(',')} are all controller listeners (controller.listener.names); add one such as PLAINTEXT://:9092`,
    );
  for (const entry of config['listener.security.protocol.map'] as string[]) {
    const [name, protocol, ...rest] = entry.split(':').map((s) => s.trim());
    if (!name || rest.length > 0 || !(SECURITY_PROTOCOLS as readonly string[]).includes(protocol?.toUpperCase()))
      problems.push(
        `listener.security.protocol.map: invalid entry "${entry}": expected NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(', ')}`,
      );
  }
  if (problems.length > 0) return problems;
  const protocols = securityProtocols(config);
  for (const l of servedListeners(config)) {
    const protocol = protocols.get(l.name);
    if (
      (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') &&
      (listenerSetting(config, l.name, 'sasl.enabled.mechanisms') as string[]).includes('OAUTHBEARER') &&
      config['sasl.oauthbearer.jwks.endpoint.url'] === null
    )
      problems.push(
        `listener ${l.name} offers OAUTHBEARER but sasl.oauthbearer.jwks.endpoint.url is not set: name the JWKS file whose keys sign the tokens (Sluice accepts no unsigned tokens)`,
      );
    if (protocol === undefined) {
      problems.push(
        `listener ${l.name} has no security protocol: add ${l.name}:PLAINTEXT (or SSL, SASL_PLAINTEXT, SASL_SSL) to listener.security.protocol.map`,
      );
      continue;
    }
    const prefix = `listener.name.${l.name.toLowerCase()}.`;
    if (protocol === 'SSL' || protocol === 'SASL_SSL') {
      const location = listenerSetting(config, l.name, 'ssl.keystore.location');
      const key = listenerSetting(config, l.name, 'ssl.keystore.key');
      const chain = listenerSetting(config, l.name, 'ssl.keystore.certificate.chain');
      if (location === null && (key === null || chain === null))
        problems.push(
          `listener ${l.name} uses ${protocol} but has no certificate: set ${prefix}ssl.keystore.location (a PEM file with the private key and certificate chain), or ${prefix}ssl.keystore.key and ${prefix}ssl.keystore.certificate.chain (or the same settings without the listener prefix)`,
        );
      else if (location !== null && key !== null)
        problems.push(
          `listener ${l.name} has both ssl.keystore.location and ssl.keystore.key: give the key in one place`,
        );
      const rules = listenerSetting(config, l.name, 'ssl.principal.mapping.rules') as string;
      try {
        parsePrincipalMappingRules(rules);
      } catch (err) {
        problems.push(`${prefix}ssl.principal.mapping.rules: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

/**
 * Stores `listener.name.<listener>.<setting>` (the listener part lower-cased, as Kafka writes it): a
 * per-listener setting, validated as its unprefixed form, or a mechanism's JAAS configuration. Returns
 * the problem, 'unknown' for a setting that cannot be given per listener, or null.
 */
function setListenerSetting(
  config: Record<string, ConfigValue>,
  key: string,
  listener: string,
  setting: string,
  value: ConfigValue,
): string | null {
  const normalized = `listener.name.${listener.toLowerCase()}.${setting}`;
  if (PER_LISTENER_SETTINGS.has(setting)) {
    try {
      config[normalized] = parseConfigValue(setting, value);
      return null;
    } catch (err) {
      return (err as Error).message.replace(`"${setting}"`, `"${key}"`);
    }
  }
  if (OAUTH_HANDLER_KEY.test(setting)) {
    config[normalized] = String(value ?? '');
    return null;
  }
  if (JAAS_KEY.test(setting)) {
    try {
      parseJaasConfig(String(value ?? ''));
      config[normalized] = String(value);
      return null;
    } catch (err) {
      return `invalid value for "${key}": ${(err as Error).message}`;
    }
  }
  return 'unknown';
}

/** `listener.security.protocol.map` as listener name → protocol. */
export function securityProtocols(config: BrokerConfig): Map<string, SecurityProtocol> {
  const out = new Map<string, SecurityProtocol>();
  for (const entry of config['listener.security.protocol.map'] as string[]) {
    const [name, protocol] = entry.split(':');
    if (name && protocol) out.set(name.trim().toUpperCase(), protocol.trim().toUpperCase() as SecurityProtocol);
  }
  return out;
}

/** A setting for one listener: `listener.name.<listener>.<key>` when given, else the broker-wide `key`. */
export function listenerSetting(config: BrokerConfig, listenerName: string, key: string): ConfigValue {
  const values = config as Record<string, ConfigValue>;
  const own = values[`listener.name.${listenerName.toLowerCase()}.${key}`];
  return own !== undefined ? own : (values[key] ?? null);
}

/** The JAAS configuration of a SASL mechanism on a listener, or null. */
export function listenerJaasConfig(config: BrokerConfig, listenerName: string, mechanism: string): string | null {
  const value = (config as Record<string, ConfigValue>)[
    `listener.name.${listenerName.toLowerCase()}.${mechanism.toLowerCase()}.sasl.jaas.config`
  ];
  return typeof value === 'string' ? value : null;
}

/** The listeners that serve clients: every listener but KRaft controller ones. */
export function servedListeners(config: BrokerConfig): Listener[] {
  return clientListeners((config.listeners as string[]).map(parseListener), config);
}

/** Drops the listeners named in controller.listener.names: Sluice has no controller to serve there. */
export function clientListeners(listeners: Listener[], config: BrokerConfig): Listener[] {
  const controllers = controllerListenerNames(config);
  return listeners.filter((l) => !controllers.has(l.name));
}

function controllerListenerNames(config: BrokerConfig): Set<string> {
  return new Set(((config['controller.listener.names'] as string[] | null) ?? []).map((n) => n.toUpperCase()));
}

/** Whether a host binds every interface: clients cannot dial it. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/** The start-up warnings a configuration deserves; `ignored` names the Kafka-only settings given. */
export function configWarnings(config: BrokerConfig, ignored: string[] = []): string[] {
  const warnings: string[] = [];
  const controllers = controllerListenerNames(config);
  const inert = [...ignored];
  for (const key of ['listeners', 'advertised.listeners'] as const)
    for (const text of (config[key] as string[] | null) ?? [])
      if (controllers.has(parseListener(text).name)) inert.push(`the controller listener ${text} in ${key}`);
  if (inert.length > 0)
    warnings.push(`these Kafka settings have no effect on a single Sluice broker and are ignored: ${inert.join(', ')}`);
  const advertised = ((config['advertised.listeners'] as string[] | null) ?? []).map(parseListener);
  for (const l of servedListeners(config)) {
    if (!isWildcardHost(l.host) || advertised.some((a) => a.name === l.name)) continue;
    const host = l.host.includes(':') ? `[${l.host}]` : l.host;
    warnings.push(
      `listener ${l.name}://${host}:${l.port} accepts connections on every interface, but clients are told to connect to 127.0.0.1, which only reaches this machine; set advertised.listeners=${l.name}://<host clients can reach>:${l.port === 0 ? '<port>' : l.port}`,
    );
  }
  return warnings;
}

export function defaultConfig(
  overrides: Record<string, string | number | boolean | string[] | null> = {},
): BrokerConfig {
  return buildConfig([new Map(Object.entries(overrides))]);
}

/** Kafka's precedence: log.retention.ms, then .minutes, then .hours. */
export function retentionMs(config: BrokerConfig): number {
  const ms = config['log.retention.ms'] as number | null;
  if (ms !== null) return ms;
  const minutes = config['log.retention.minutes'] as number | null;
  if (minutes !== null) return minutes < 0 ? -1 : minutes * 60_000;
  const hours = config['log.retention.hours'] as number;
  return hours < 0 ? -1 : hours * 3_600_000;
}

export function segmentMs(config: BrokerConfig): number {
  const ms = config['log.roll.ms'] as number | null;
  return ms ?? (config['log.roll.hours'] as number) * 3_600_000;
}

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export function parseListener(text: string): Listener {
  const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(text.trim());
  if (!m)
    throw new ConfigError(`invalid listener "${text}": expected NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092`);
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(`invalid listener "${text}": port must be 0..65535`);
  return { name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

/** Parses `host:port` (IPv6 in brackets), as for admin.http.listener. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535)
    throw new ConfigError(`invalid address "${text}": expected host:port, e.g. 127.0.0.1:9644`);
  return { host: m[1].replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) };
}

/** Help text listing every setting with its default, for `sluice start --help`. */
export function describeSettings(): string {
  const lines: string[] = [];
  for (const [key, def] of Object.entries(CONFIG_DEFINITIONS) as Array<[string, Definition]>) {
    const dflt =
      def.default === null ? '(none)' : Array.isArray(def.default) ? def.default.join(',') : String(def.default);
    lines.push(`  ${key.padEnd(36)} ${def.doc} Default: ${dflt}. Accepts ${describeRange(key, def)}.`);
  }
  return lines.join('\n');
}

/** The Kafka settings accepted and ignored, wrapped for `sluice start --help`. */
export function describeIgnoredSettings(): string {
  const lines: string[] = [];
  let line = ' ';
  for (const key of Object.keys(INERT_KAFKA_SETTINGS)) {
    if (line.length + key.length > 108) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${key}`;
  }
  lines.push(line);
  return `${lines.join('\n')}\n  (replication factors and min.isr accept only 1)`;
}

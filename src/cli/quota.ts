/**
 * `sluice quota describe|alter`: client quotas (KIP-546) as kafka-configs.sh shows and changes them, for
 * users, client ids, both together, and IP addresses, each by name or as its type's default (Kafka's
 * `--entity-default`). Works against any Kafka-compatible broker (Kafka 2.6+).
 */
import {
  Admin,
  type ClientQuotaEntry,
  type QuotaEntityComponent,
  type QuotaFilterComponent,
  QuotaMatchType,
} from '../client/admin.js';
import { KafkaError } from '../client/errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { FORMAT_OPTION, helpFor, outputFormat, parse, table, toJson, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

const ENTITY_HELP = `  -u, --user USER               the quotas of this user (principal name)
  --user-defaults               the default of every user without its own quota (Kafka's --entity-default)
  --client-id CLIENT-ID         the quotas of this client id (with --user: of that user's client id)
  --client-defaults             the default of every client id without its own quota
  --ip IP                       the quotas of this IP address or host (connection_creation_rate only)
  --ip-defaults                 the default of every IP address without its own quota`;

const DESCRIBE_HELP = `usage: sluice quota describe [ENTITY OPTIONS] [options]

Lists client quotas. Without an entity option, every quota entry; with some, as kafka-configs.sh
--describe: the entries of exactly those entity types matching the names given (--user alice lists
alice's own quotas, not those of her client ids; add --client-id or --client-defaults for those).

entity options:
${ENTITY_HELP}

options:
  -f, --format text|json        output format (default text; json: one object per line per entry)
${BOOTSTRAP_HELP}

examples:
  sluice quota describe
  sluice quota describe --user alice --client-id app
  sluice quota describe --user-defaults
  sluice quota describe --ip 10.0.0.7 --format json`;

const ALTER_HELP = `usage: sluice quota alter ENTITY OPTIONS (--add-config K=V[,…] | --delete-config K[,…]) [options]

Sets or removes quota values of one entity, as kafka-configs.sh --alter does. Keys of users and client
ids: producer_byte_rate and consumer_byte_rate (bytes per second), request_percentage (percent of one
request handler thread), controller_mutation_rate (partition mutations per second). Key of IP
addresses: connection_creation_rate (new connections per second).

entity options:
${ENTITY_HELP}

options:
  -a, --add-config K=V[,K=V…]   set these quota values (repeatable)
  -d, --delete-config K[,K…]    remove these quota values (repeatable)
  --validate-only               check the change with the broker without applying it
  -f, --format text|json        output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice quota alter --user alice --client-id app \\
      --add-config 'producer_byte_rate=1048576,consumer_byte_rate=2097152,request_percentage=50'
  sluice quota alter --user alice --client-id app --delete-config producer_byte_rate
  sluice quota alter --client-defaults --add-config producer_byte_rate=10485760
  sluice quota alter --ip-defaults --add-config connection_creation_rate=20`;

export const QUOTA_HELP = `usage: sluice quota <action> [options]

Client quotas of a Kafka-compatible cluster: byte rates, request time and connection rates of users,
client ids and IP addresses.

actions:
  describe   list quota entries, all or those of an entity
  alter      set or remove quota values of an entity

examples:
  sluice quota describe
  sluice quota alter --user alice --add-config producer_byte_rate=1048576`;

export const quotaHelp = (args: string[]) => helpFor({ describe: DESCRIBE_HELP, alter: ALTER_HELP }, QUOTA_HELP, args);

export async function runQuota(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'describe') return describe(rest);
  if (action === 'alter') return alter(rest);
  if (action === undefined) throw new UsageError('missing action: describe or alter');
  throw new UsageError(`unknown action "${action}": use describe or alter`);
}

const ENTITY_OPTIONS = {
  user: { type: 'string', short: 'u' },
  'user-defaults': { type: 'boolean' },
  'client-id': { type: 'string' },
  'client-defaults': { type: 'boolean' },
  ip: { type: 'string' },
  'ip-defaults': { type: 'boolean' },
} as const;

/** Kafka's entity type names, in the order kafka-configs.sh names them. */
const ENTITY_TYPES = [
  { type: 'user', flag: '--user' },
  { type: 'client-id', flag: '--client-id' },
  { type: 'ip', flag: '--ip' },
] as const;

interface EntityValues {
  user?: string;
  'user-defaults'?: boolean;
  'client-id'?: string;
  'client-defaults'?: boolean;
  ip?: string;
  'ip-defaults'?: boolean;
}

const DEFAULTS_FLAG: Record<string, keyof EntityValues> = {
  user: 'user-defaults',
  'client-id': 'client-defaults',
  ip: 'ip-defaults',
};

/** The entity the options name: per type a name, or null for its default; types not named are left out. */
function entityFrom(values: EntityValues): QuotaEntityComponent[] {
  const entity: QuotaEntityComponent[] = [];
  for (const { type, flag } of ENTITY_TYPES) {
    const name = values[type];
    const defaultsFlag = DEFAULTS_FLAG[type];
    const defaults = values[defaultsFlag] === true;
    if (name !== undefined && defaults)
      throw new UsageError(`${flag} and --${defaultsFlag} name two different entities: use one of them`);
    // Kafka's tools read an empty name as the default; here the default has its own option, so say so.
    if (name === '') throw new UsageError(`${flag} needs a name; use --${defaultsFlag} for the default`);
    if (name !== undefined) entity.push({ entityType: type, entityName: name });
    else if (defaults) entity.push({ entityType: type, entityName: null });
  }
  if (entity.some((c) => c.entityType === 'ip') && entity.length > 1)
    throw new UsageError('an IP address quota stands alone: --ip cannot be combined with --user or --client-id');
  return entity;
}

/** `user "alice", client-id <default>`: an entity as the text output names it. */
function describeEntity(entity: QuotaEntityComponent[]): string {
  return entity
    .map((c) => `${c.entityType} ${c.entityName === null ? '<default>' : JSON.stringify(c.entityName)}`)
    .join(', ');
}

async function describe(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, ...ENTITY_OPTIONS, ...FORMAT_OPTION });
  const format = outputFormat(values.format);
  const entity = entityFrom(values);
  const filter: QuotaFilterComponent[] = entity.map((c) => ({
    entityType: c.entityType,
    matchType: c.entityName === null ? QuotaMatchType.DEFAULT : QuotaMatchType.EXACT,
    match: c.entityName,
  }));
  return withClient(values, async (client) => {
    // As kafka-configs.sh: a filter matches only entities of exactly its types; no filter lists all.
    const entries = await new Admin(client).describeClientQuotas(filter, filter.length > 0);
    entries.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    if (format === 'json') {
      for (const e of entries) console.log(toJson({ entity: entityObject(e), values: e.values }));
      return 0;
    }
    if (entries.length === 0) {
      console.log(
        filter.length === 0 ? 'No client quotas are set.' : `No client quotas for ${describeEntity(entity)}.`,
      );
      return 0;
    }
    const name = (e: ClientQuotaEntry, type: string) => {
      const c = e.entity.find((x) => x.entityType === type);
      return c === undefined ? '-' : (c.entityName ?? '<default>');
    };
    console.log(
      table(
        ['USER', 'CLIENT-ID', 'IP', 'QUOTAS'],
        entries.map((e) => [
          name(e, 'user'),
          name(e, 'client-id'),
          name(e, 'ip'),
          Object.entries(e.values)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, v]) => `${k}=${v}`)
            .join(', '),
        ]),
      ),
    );
    return 0;
  });
}

function entityObject(e: ClientQuotaEntry): Record<string, string | null> {
  return Object.fromEntries(e.entity.map((c) => [c.entityType, c.entityName]));
}

/** Entries sorted by user, then client id, then ip; a default sorts before names, a missing type first. */
function sortKey(e: ClientQuotaEntry): string {
  return ENTITY_TYPES.map(({ type }) => {
    const c = e.entity.find((x) => x.entityType === type);
    return c === undefined ? '0' : c.entityName === null ? '1' : `2${c.entityName}`;
  }).join('\u0000');
}

async function alter(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...BOOTSTRAP_OPTIONS,
    ...ENTITY_OPTIONS,
    'add-config': { type: 'string', short: 'a', multiple: true },
    'delete-config': { type: 'string', short: 'd', multiple: true },
    'validate-only': { type: 'boolean' },
    ...FORMAT_OPTION,
  });
  const format = outputFormat(values.format);
  const entity = entityFrom(values);
  if (entity.length === 0)
    throw new UsageError('name the entity: --user, --client-id, --ip or their -defaults options');
  const ops = new Map<string, number | null>();
  for (const pair of splitList(values['add-config'])) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--add-config expects KEY=VALUE, got "${pair}"`);
    const key = pair.slice(0, eq).trim();
    const text = pair.slice(eq + 1).trim();
    const value = Number(text);
    if (text === '' || !Number.isFinite(value))
      throw new UsageError(`--add-config: the value of ${key} must be a number, got "${text}"`);
    if (ops.has(key)) throw new UsageError(`--add-config sets ${key} twice`);
    ops.set(key, value);
  }
  for (const key of splitList(values['delete-config'])) {
    if (ops.has(key))
      throw new UsageError(`${key} is both added and deleted: use --add-config or --delete-config for it, not both`);
    ops.set(key, null);
  }
  if (ops.size === 0) throw new UsageError('nothing to change: give --add-config or --delete-config');
  const validateOnly = values['validate-only'] === true;
  return withClient(values, async (client) => {
    const [outcome] = await new Admin(client).alterClientQuotas([{ entity, ops: Object.fromEntries(ops) }], {
      validateOnly,
    });
    if (outcome === undefined) throw new Error('the broker answered AlterClientQuotas without an entry');
    if (outcome.errorCode !== ErrorCode.NONE)
      throw new KafkaError(outcome.errorCode, `quotas of ${describeEntity(entity)}: ${outcome.errorMessage ?? ''}`);
    const set = Object.fromEntries([...ops].filter(([, v]) => v !== null));
    const removed = [...ops].filter(([, v]) => v === null).map(([k]) => k);
    if (format === 'json') {
      console.log(toJson({ entity: entityObject({ entity, values: {} }), set, removed, validateOnly }));
      return 0;
    }
    const changes = [...Object.entries(set).map(([k, v]) => `${k}=${v}`), ...removed.map((k) => `removed ${k}`)].join(
      ', ',
    );
    console.log(
      `${validateOnly ? 'Valid (nothing changed)' : 'Updated'}: quotas of ${describeEntity(entity)}: ${changes}`,
    );
    return 0;
  });
}

/** Repeatable comma-separated lists (`-a a=1,b=2 -a c=3`) as one list; empty items are dropped. */
function splitList(list: string[] | undefined): string[] {
  return (list ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

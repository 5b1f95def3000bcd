/**
 * The client quota configs: which entity (a user, a client id, both, or an IP address; a null name is the
 * `<default>` of its type) has which quota values. DescribeClientQuotas reads it, AlterClientQuotas changes
 * it, and the quota managers read their limits from it.
 *
 * Validation and matching are Kafka 4.x's (its controller's ClientQuotaControlManager for alterations, the
 * broker's ClientQuotasImage for descriptions), so admin tools see the same errors: INVALID_REQUEST for an
 * unknown key, a value ≤ 0, a fraction of an integral key, an empty or repeated entity type, an IP combined
 * with a user or client id; UNSUPPORTED_VERSION for an entity type Kafka does not know in a filter.
 *
 * With a data directory, the configs live in `client-quotas.json` there, rewritten whole and atomically
 * (temporary file, fsync, rename) on every change and read back at start-up; the memory engine keeps them
 * in memory only.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ErrorCode } from '../../protocol/error-codes.js';
import { JsonStateFile } from '../json-state-file.js';

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

/** DescribeClientQuotas match types. */
export const MATCH_EXACT = 0;
export const MATCH_DEFAULT = 1;
export const MATCH_SPECIFIED = 2;

/** Kafka's quota keys, with the type its ConfigDef gives each (integral keys refuse fractions). */
const USER_AND_CLIENT_KEYS: Record<string, 'long' | 'double'> = {
  producer_byte_rate: 'long',
  consumer_byte_rate: 'long',
  request_percentage: 'double',
  controller_mutation_rate: 'double',
};
const IP_KEYS: Record<string, 'int'> = { connection_creation_rate: 'int' };

export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';

/** One entity: entity type → name, null for the type's `<default>`. */
export type QuotaEntity = ReadonlyMap<string, string | null>;

export interface QuotaEntry {
  entity: QuotaEntity;
  values: Map<string, number>;
}

export interface EntityComponent {
  entityType: string;
  entityName: string | null;
}

export interface FilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

export interface QuotaAlteration {
  entity: EntityComponent[];
  ops: Array<{ key: string; value: number; remove: boolean }>;
}

export interface QuotaOutcome {
  errorCode: ErrorCode;
  errorMessage: string | null;
}

export interface AlterOutcome extends QuotaOutcome {
  entity: QuotaEntity;
}

export class QuotaRequestError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface QuotaFile {
  version: 1;
  entries: Array<{ entity: Record<string, string | null>; values: Record<string, number> }>;
}

const FILE_NAME = 'client-quotas.json';
const INT_MAX = 2147483647;

/** A stable key for an entity whatever the order of its components. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify([...entity].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function describeEntity(entity: QuotaEntity): string {
  return [...entity].map(([type, name]) => `${type}=${name ?? '<default>'}`).join(', ');
}

export class QuotaStore {
  private readonly entries = new Map<string, QuotaEntry>();
  private readonly listeners: Array<() => void> = [];
  private readonly file: JsonStateFile<QuotaFile>;

  /** @param dir where client-quotas.json lives; null keeps the configs in memory only. */
  constructor(dir: string | null) {
    this.file = new JsonStateFile(dir, FILE_NAME);
  }

  async load(): Promise<void> {
    const parsed = await this.file.read();
    if (parsed === undefined) return;
    for (const e of parsed.entries) {
      const entity = new Map(Object.entries(e.entity));
      this.entries.set(entityKey(entity), { entity, values: new Map(Object.entries(e.values)) });
    }
    this.changed();
  }

  /** Calls `fn` after every change (and after loading). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** The value of `key` set on exactly this entity, if any. */
  get(entity: QuotaEntity, key: string): number | undefined {
    return this.entries.get(entityKey(entity))?.values.get(key);
  }

  /** Whether any entity has a value for `key`. */
  has(key: string): boolean {
    for (const e of this.entries.values()) if (e.values.has(key)) return true;
    return false;
  }

  list(): QuotaEntry[] {
    return [...this.entries.values()];
  }

  /** The entries a DescribeClientQuotas filter matches; throws QuotaRequestError for a filter Kafka refuses. */
  describe(components: FilterComponent[], strict: boolean): QuotaEntry[] {
    const exact = new Map<string, string | null>();
    const specified = new Set<string>();
    for (const c of components) {
      if (c.entityType === '') throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.');
      if (exact.has(c.entityType) || specified.has(c.entityType))
        throw new QuotaRequestError(
          ErrorCode.INVALID_REQUEST,
          `Entity type ${c.entityType} cannot appear more than once in the filter.`,
        );
      if (c.entityType !== IP && c.entityType !== USER && c.entityType !== CLIENT_ID)
        throw new QuotaRequestError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
      if (c.matchType === MATCH_EXACT) {
        if (c.match === null)
          throw new QuotaRequestError(
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_EXACT, but set match string to null.',
          );
        exact.set(c.entityType, c.match);
      } else if (c.matchType === MATCH_DEFAULT) {
        if (c.match !== null)
          throw new QuotaRequestError(
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.',
          );
        exact.set(c.entityType, null);
      } else if (c.matchType === MATCH_SPECIFIED) {
        if (c.match !== null)
          throw new QuotaRequestError(
            ErrorCode.INVALID_REQUEST,
            'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.',
          );
        specified.add(c.entityType);
      } else {
        throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
      }
    }
    const uses = (type: string) => exact.has(type) || specified.has(type);
    if (uses(IP) && (uses(USER) || uses(CLIENT_ID)))
      throw new QuotaRequestError(
        ErrorCode.INVALID_REQUEST,
        'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
      );
    // No component at all matches everything, unless strict (which then asks for entities of no type).
    if (components.length === 0) return strict ? [] : this.list();
    return this.list().filter((e) => {
      if (strict && e.entity.size !== exact.size + specified.size) return false;
      for (const [type, name] of exact) if (!e.entity.has(type) || e.entity.get(type) !== name) return false;
      for (const type of specified) if (!e.entity.has(type)) return false;
      return true;
    });
  }

  /**
   * Applies AlterClientQuotas entries: each entity is checked alone and its ops applied together, or not at
   * all; with `validateOnly` nothing changes. Returns one outcome per distinct entity, as Kafka answers: an
   * entity named twice is applied once and answered with an error.
   */
  async alter(alterations: QuotaAlteration[], validateOnly: boolean): Promise<AlterOutcome[]> {
    const outcomes: AlterOutcome[] = [];
    const byKey = new Map<string, AlterOutcome>();
    const plans: Array<{ entity: Map<string, string | null>; values: Map<string, number | null> }> = [];
    for (const alteration of alterations) {
      // As Kafka reads the request into a map of entity type to name, a repeated type keeps its last name.
      const entity = new Map<string, string | null>();
      for (const c of alteration.entity) entity.set(c.entityType, c.entityName);
      const key = entityKey(entity);
      const earlier = byKey.get(key);
      if (earlier !== undefined) {
        Object.assign(earlier, fail(`Ignoring duplicate entity ${describeEntity(entity)}`));
        continue;
      }
      const checked = await this.check(entity, alteration.ops);
      const outcome: AlterOutcome = { entity, ...checked.outcome };
      byKey.set(key, outcome);
      outcomes.push(outcome);
      if (checked.outcome.errorCode === ErrorCode.NONE) plans.push({ entity, values: checked.values });
    }
    if (validateOnly) return outcomes;
    let changed = false;
    for (const plan of plans) {
      const key = entityKey(plan.entity);
      const entry = this.entries.get(key) ?? { entity: plan.entity, values: new Map<string, number>() };
      for (const [k, v] of plan.values) {
        if (v === null) changed = entry.values.delete(k) || changed;
        else if (entry.values.get(k) !== v) {
          entry.values.set(k, v);
          changed = true;
        }
      }
      if (entry.values.size === 0) this.entries.delete(key);
      else this.entries.set(key, entry);
    }
    if (changed) {
      await this.save();
      this.changed();
    }
    return outcomes;
  }

  private async check(
    entity: Map<string, string | null>,
    ops: QuotaAlteration['ops'],
  ): Promise<{ outcome: QuotaOutcome; values: Map<string, number | null> }> {
    const values = new Map<string, number | null>();
    const failed = (message: string) => ({ outcome: fail(message), values });
    for (const op of ops) {
      // Kafka reports a repeated key as a duplicate entity: its message for the key is overwritten.
      if (values.has(op.key)) return failed(`Ignoring duplicate entity ${describeEntity(entity)}`);
      values.set(op.key, op.remove ? null : op.value);
    }
    if (entity.size === 0) return failed('Invalid empty client quota entity');
    for (const [type, name] of entity) {
      if (type !== USER && type !== CLIENT_ID && type !== IP)
        return failed(`Unhandled client quota entity type: ${type}`);
      if (name === '') return failed(`Empty ${type} not supported`);
    }
    let keys: Record<string, string>;
    if (entity.has(IP)) {
      if (entity.has(USER) || entity.has(CLIENT_ID))
        return failed('Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId');
      const ip = entity.get(IP) ?? null;
      if (ip !== null && !(await resolvable(ip))) return failed(`${ip} is not a valid IP or resolvable host.`);
      keys = IP_KEYS;
    } else {
      keys = USER_AND_CLIENT_KEYS;
    }
    for (const [key, value] of values) {
      if (value === null) continue;
      const type = keys[key];
      if (type === undefined) return failed(`Invalid configuration key ${key}`);
      if (!(value > 0)) return failed(`Quota ${key} must be greater than 0`);
      if (type === 'int' && value > INT_MAX) return failed(`Proposed value for ${key} is too large for an INT.`);
      if (type === 'long' && value > 2 ** 63) return failed(`Proposed value for ${key} is too large for a LONG.`);
      if (type !== 'double' && Math.abs(value % 1) > 1e-6) return failed(`${key} cannot be a fractional value.`);
    }
    return { outcome: { errorCode: ErrorCode.NONE, errorMessage: null }, values };
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  /** Serialized atomic rewrites: each save waits for the previous one, then writes the current state. */
  private save(): Promise<void> {
    return this.file.write(() => ({
      version: 1,
      entries: this.list().map((e) => ({
        entity: Object.fromEntries(e.entity),
        values: Object.fromEntries(e.values),
      })),
    }));
  }
}

function fail(message: string): QuotaOutcome {
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message };
}

/** Kafka accepts an IP entity that InetAddress.getByName takes: an address, or a host name that resolves. */
async function resolvable(host: string): Promise<boolean> {
  if (isIP(host) !== 0) return true;
  try {
    await lookup(host);
    return true;
  } catch {
    return false;
  }
}

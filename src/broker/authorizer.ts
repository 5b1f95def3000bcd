/**
 * Authorization with ACLs, evaluated as Kafka's StandardAuthorizer does. It is on only when
 * `authorizer.class.name` names an authorizer; without one every request is allowed (Kafka's default).
 *
 * An ACL says that a principal (`User:alice`, or `User:*` for everyone) from a host (or `*`) is allowed or
 * denied an operation on the resources a pattern names: one resource (LITERAL, where the name `*` means
 * every resource of the type) or every resource whose name starts with a prefix (PREFIXED). A check:
 * - super users (`super.users`) are allowed everything;
 * - a matching DENY wins over any ALLOW;
 * - an ALLOW of ALL matches every operation; an ALLOW of READ, WRITE, DELETE or ALTER implies DESCRIBE, and
 *   one of ALTER_CONFIGS implies DESCRIBE_CONFIGS (a DENY matches its own operation, or ALL, only);
 * - with no ACL at all on the resource, `allow.everyone.if.no.acl.found` decides (default: denied).
 *
 * The ACLs are kept in acls.json in the data directory (memory only for the memory engine).
 */
import type { KafkaPrincipal } from '../network/principal.js';
import { ANONYMOUS, formatPrincipal } from '../network/principal.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { BrokerConfig } from './config.js';
import { JsonStateFile } from './json-state-file.js';
import type { HandlerContext } from './registry.js';

/** Kafka's ResourceType codes, as the ACL APIs carry them. */
export enum ResourceType {
  UNKNOWN = 0,
  ANY = 1,
  TOPIC = 2,
  GROUP = 3,
  CLUSTER = 4,
  TRANSACTIONAL_ID = 5,
  DELEGATION_TOKEN = 6,
  USER = 7,
}

/** Kafka's AclOperation codes. */
export enum AclOperation {
  UNKNOWN = 0,
  ANY = 1,
  ALL = 2,
  READ = 3,
  WRITE = 4,
  CREATE = 5,
  DELETE = 6,
  ALTER = 7,
  DESCRIBE = 8,
  CLUSTER_ACTION = 9,
  DESCRIBE_CONFIGS = 10,
  ALTER_CONFIGS = 11,
  IDEMPOTENT_WRITE = 12,
  CREATE_TOKENS = 13,
  DESCRIBE_TOKENS = 14,
}

/** Kafka's AclPermissionType codes. */
export enum AclPermissionType {
  UNKNOWN = 0,
  ANY = 1,
  DENY = 2,
  ALLOW = 3,
}

/** Kafka's PatternType codes. */
export enum PatternType {
  UNKNOWN = 0,
  ANY = 1,
  MATCH = 2,
  LITERAL = 3,
  PREFIXED = 4,
}

/** The name of the cluster resource, the only one of its type. */
export const CLUSTER_NAME = 'kafka-cluster';
/** A LITERAL name, principal or host matching every resource, principal or host. */
export const WILDCARD = '*';
/** Kafka's authorizer class name; Sluice's own authorizer stands in for it. */
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

/** One ACL binding: a resource pattern and an access control entry. */
export interface AclBinding {
  resourceType: ResourceType;
  resourceName: string;
  patternType: PatternType;
  /** `User:alice` or `User:*`. */
  principal: string;
  /** An IP address, or `*`. */
  host: string;
  operation: AclOperation;
  permissionType: AclPermissionType;
}

/** A filter over bindings (DescribeAcls, DeleteAcls): null strings and ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: ResourceType;
  resourceName: string | null;
  patternType: PatternType;
  principal: string | null;
  host: string | null;
  operation: AclOperation;
  permissionType: AclPermissionType;
}

/** A request the authorizer cannot take (an invalid binding or filter), with Kafka's error and message. */
export class AclRequestError extends Error {}

const IMPLIES_DESCRIBE = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/** Whether `acl` names the resource (type, name) by its pattern. */
function patternMatches(acl: AclBinding, type: ResourceType, name: string): boolean {
  if (acl.resourceType !== type) return false;
  if (acl.patternType === PatternType.LITERAL) return acl.resourceName === name || acl.resourceName === WILDCARD;
  if (acl.patternType === PatternType.PREFIXED) return name.startsWith(acl.resourceName);
  return false;
}

/** ALLOW or DENY when `acl` speaks about this principal, host and operation; null when it does not. */
function entryResult(
  acl: AclBinding,
  principal: string,
  host: string,
  operation: AclOperation,
): AclPermissionType.ALLOW | AclPermissionType.DENY | null {
  if (acl.principal !== principal && acl.principal !== 'User:*') return null;
  if (acl.host !== WILDCARD && acl.host !== host) return null;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === AclPermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return null;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return null;
      } else if (acl.operation !== operation) return null;
    } else if (acl.operation !== operation) return null;
  }
  return acl.permissionType === AclPermissionType.ALLOW ? AclPermissionType.ALLOW : AclPermissionType.DENY;
}

/** Whether a binding matches a filter (Kafka's AclBindingFilter.matches). */
export function filterMatches(filter: AclBindingFilter, acl: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== acl.resourceType) return false;
  if (filter.patternType === PatternType.MATCH) {
    // MATCH: the bindings that would apply to the named resource: its literal, the wildcard, its prefixes.
    if (filter.resourceName === null) return true;
    if (acl.patternType === PatternType.LITERAL)
      return acl.resourceName === filter.resourceName || acl.resourceName === WILDCARD;
    return acl.patternType === PatternType.PREFIXED && filter.resourceName.startsWith(acl.resourceName);
  }
  if (filter.patternType !== PatternType.ANY && filter.patternType !== acl.patternType) return false;
  if (filter.resourceName !== null && filter.resourceName !== acl.resourceName) return false;
  if (filter.principal !== null && filter.principal !== acl.principal) return false;
  if (filter.host !== null && filter.host !== acl.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== acl.operation) return false;
  if (filter.permissionType !== AclPermissionType.ANY && filter.permissionType !== acl.permissionType) return false;
  return true;
}

/** Why a binding cannot be created (Kafka refuses these with INVALID_REQUEST), or null when it can. */
export function bindingProblem(acl: AclBinding): string | null {
  if (acl.resourceType === ResourceType.ANY || acl.resourceType === ResourceType.UNKNOWN) return 'Invalid resourceType';
  if (acl.patternType !== PatternType.LITERAL && acl.patternType !== PatternType.PREFIXED) return 'Invalid patternType';
  if (acl.operation === AclOperation.ANY || acl.operation === AclOperation.UNKNOWN) return 'Invalid operation';
  if (acl.permissionType !== AclPermissionType.ALLOW && acl.permissionType !== AclPermissionType.DENY)
    return 'Invalid permissionType';
  if (acl.resourceName === '') return 'Resource name should not be empty';
  if (acl.resourceType === ResourceType.CLUSTER && acl.resourceName !== CLUSTER_NAME)
    return 'The only valid name for the CLUSTER resource is kafka-cluster';
  const colon = acl.principal.indexOf(':');
  if (colon <= 0)
    return `Could not parse principal from \`${acl.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (acl.host === '') return 'Invalid host';
  return null;
}

/** A principal of a super.users list, `User:admin;User:ops`. */
export function parseSuperUsers(value: string | null): Set<string> {
  const users = new Set<string>();
  for (const part of (value ?? '').split(';')) if (part.trim() !== '') users.add(part.trim());
  return users;
}

/** An IPv4 client seen through a dual-stack socket is `::ffff:a.b.c.d`; ACL hosts name it `a.b.c.d`. */
function hostOf(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}

export class Authorizer {
  /** Whether ACLs are checked at all (authorizer.class.name set). */
  readonly enabled: boolean;
  readonly superUsers: Set<string>;
  readonly allowEveryoneIfNoAclFound: boolean;
  private acls: AclBinding[] = [];
  private readonly file: JsonStateFile<{ acls: AclBinding[] }>;

  constructor(config: BrokerConfig, dataDir: string | null) {
    const className = (config['authorizer.class.name'] as string | null) ?? '';
    this.enabled = className.trim() !== '';
    this.superUsers = parseSuperUsers(config['super.users'] as string | null);
    this.allowEveryoneIfNoAclFound = config['allow.everyone.if.no.acl.found'] as boolean;
    this.file = new JsonStateFile(dataDir, 'acls.json');
  }

  async load(): Promise<void> {
    const saved = await this.file.read();
    this.acls = saved?.acls ?? [];
  }

  /** Every binding, in creation order. */
  list(): readonly AclBinding[] {
    return this.acls;
  }

  /** Adds bindings (an existing one is not added twice), then saves. */
  async create(bindings: AclBinding[]): Promise<void> {
    for (const b of bindings) if (!this.acls.some((a) => sameBinding(a, b))) this.acls.push({ ...b });
    await this.save();
  }

  describe(filter: AclBindingFilter): AclBinding[] {
    return this.acls.filter((a) => filterMatches(filter, a));
  }

  /** Removes the bindings each filter matches; returns them per filter, then saves. */
  async delete(filters: AclBindingFilter[]): Promise<AclBinding[][]> {
    const removed = filters.map((f) => this.acls.filter((a) => filterMatches(f, a)));
    const gone = new Set(removed.flat());
    this.acls = this.acls.filter((a) => !gone.has(a));
    await this.save();
    return removed;
  }

  private save(): Promise<void> {
    return this.file.write(() => ({ acls: this.acls }));
  }

  /** Whether `principal` from `host` may perform `operation` on the resource (type, name). */
  authorize(
    principal: KafkaPrincipal,
    host: string,
    operation: AclOperation,
    type: ResourceType,
    name: string,
  ): boolean {
    if (!this.enabled) return true;
    const who = formatPrincipal(principal);
    if (this.superUsers.has(who)) return true;
    let allowed = false;
    let resourceHasAcls = false;
    for (const acl of this.acls) {
      if (!patternMatches(acl, type, name)) continue;
      resourceHasAcls = true;
      const result = entryResult(acl, who, hostOf(host), operation);
      if (result === AclPermissionType.DENY) return false;
      if (result === AclPermissionType.ALLOW) allowed = true;
    }
    if (allowed) return true;
    return !resourceHasAcls && this.allowEveryoneIfNoAclFound;
  }

  /**
   * Whether `principal` may perform `operation` on some resource of a type (Kafka's authorizeByResourceType,
   * used for idempotent produce and the like): an ALLOW binding whose pattern no DENY binding covers.
   */
  authorizeAny(principal: KafkaPrincipal, host: string, operation: AclOperation, type: ResourceType): boolean {
    if (!this.enabled) return true;
    const who = formatPrincipal(principal);
    if (this.superUsers.has(who)) return true;
    const h = hostOf(host);
    const denies: AclBinding[] = [];
    const allows: AclBinding[] = [];
    let typeHasAcls = false;
    for (const acl of this.acls) {
      if (acl.resourceType !== type) continue;
      typeHasAcls = true;
      const result = entryResult(acl, who, h, operation);
      if (result === AclPermissionType.DENY) denies.push(acl);
      else if (result === AclPermissionType.ALLOW) allows.push(acl);
    }
    const deniedName = (name: string) =>
      denies.some(
        (d) =>
          (d.patternType === PatternType.LITERAL && (d.resourceName === WILDCARD || d.resourceName === name)) ||
          (d.patternType === PatternType.PREFIXED && name.startsWith(d.resourceName)),
      );
    if (denies.some((d) => d.patternType === PatternType.LITERAL && d.resourceName === WILDCARD)) return false;
    if (allows.some((a) => !deniedName(a.resourceName))) return true;
    return !typeHasAcls && this.allowEveryoneIfNoAclFound;
  }
}

/**
 * Whether the request's client may perform `operation` on the resource (type, name): the one-line check
 * each handler makes. Allowed when the broker has no authorizer.
 */
export function authorize(ctx: HandlerContext, operation: AclOperation, type: ResourceType, name: string): boolean {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined || !authorizer.enabled) return true;
  const principal = ctx.connection.security?.principal ?? ANONYMOUS;
  return authorizer.authorize(principal, ctx.connection.remoteAddress, operation, type, name);
}

/** Whether the client may perform `operation` on the cluster. */
export function authorizeCluster(ctx: HandlerContext, operation: AclOperation): boolean {
  return authorize(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME);
}

/** Whether the client may perform `operation` on some resource of a type. */
export function authorizeAny(ctx: HandlerContext, operation: AclOperation, type: ResourceType): boolean {
  const authorizer = ctx.broker.authorizer;
  if (authorizer === undefined || !authorizer.enabled) return true;
  const principal = ctx.connection.security?.principal ?? ANONYMOUS;
  return authorizer.authorizeAny(principal, ctx.connection.remoteAddress, operation, type);
}

/**
 * The KIP-430 bitfield of the operations among `bits` (a bitfield of the resource type's operations) the
 * client may perform on the resource: all of them without an authorizer.
 */
export function authorizedOperations(ctx: HandlerContext, type: ResourceType, name: string, bits: number): number {
  let allowed = 0;
  for (let op = 0; op < 31; op++) {
    if ((bits & (1 << op)) !== 0 && authorize(ctx, op as AclOperation, type, name)) allowed |= 1 << op;
  }
  return allowed;
}

/**
 * Whether the client may describe (`describe`) or alter the configs of a config resource, as Kafka decides:
 * a topic's on the topic (else TOPIC_AUTHORIZATION_FAILED), a broker's or broker logger's on the cluster
 * (else CLUSTER_AUTHORIZATION_FAILED). Other types are left to the handler (NONE).
 */
export function configRefusal(ctx: HandlerContext, resourceType: number, name: string, describe: boolean): ErrorCode {
  const operation = describe ? AclOperation.DESCRIBE_CONFIGS : AclOperation.ALTER_CONFIGS;
  if (resourceType === CONFIG_RESOURCE_TOPIC) {
    return authorize(ctx, operation, ResourceType.TOPIC, name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
  }
  if (resourceType === CONFIG_RESOURCE_BROKER || resourceType === CONFIG_RESOURCE_BROKER_LOGGER) {
    return authorizeCluster(ctx, operation) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  }
  return ErrorCode.NONE;
}

/** Kafka's ConfigResource.Type codes (kept here so the authorizer does not depend on topic-admin). */
const CONFIG_RESOURCE_TOPIC = 2;
const CONFIG_RESOURCE_BROKER = 4;
const CONFIG_RESOURCE_BROKER_LOGGER = 8;

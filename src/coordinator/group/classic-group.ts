/**
 * One group of the classic rebalance protocol: its members, state, generation and committed offsets.
 * The coordinator drives the transitions; this file holds the data and the rules that need no timers.
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
 *     ▲                  ▲     │ (no member left)                                │ leader's SyncGroup stored
 *     └──────────────────┼─────┘                                                 ▼
 *                        └──────── join, leave, session expiry ──────────────  Stable
 *   Dead: deleted (DeleteGroups, or an Empty group whose last offset expired); never leaves Dead.
 */
import { ConsumerProtocolSubscriptionCodec } from '../../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../../protocol/reader.js';
import type { GroupMetadataValue } from './offsets-topic-records.js';

export enum GroupState {
  Empty = 'Empty',
  PreparingRebalance = 'PreparingRebalance',
  CompletingRebalance = 'CompletingRebalance',
  Stable = 'Stable',
  Dead = 'Dead',
}

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface GroupProtocol {
  name: string;
  metadata: Buffer;
}

export interface JoinGroupMemberInfo {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Buffer;
}

/** What a JoinGroup is answered with (the handler maps it onto the version's fields). */
export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  /** Every member's metadata for the chosen protocol: the leader's answer only. */
  members: JoinGroupMemberInfo[];
  skipAssignment: boolean;
}

export interface SyncGroupResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 unless the commit asked for its own retention time (OffsetCommit v2–v4). */
  expireTimestamp: number;
}

export class GroupMember {
  protocols: GroupProtocol[];
  assignment: Buffer = Buffer.alloc(0);
  /** The parked JoinGroup of this member, answered when the rebalance completes. */
  awaitingJoin: ((result: JoinGroupResult) => void) | null = null;
  /** The parked SyncGroup of this member, answered when the leader's assignment is stored. */
  awaitingSync: ((result: SyncGroupResult) => void) | null = null;
  /** Joined during the current rebalance and not yet answered: expires on the new-member timeout instead. */
  isNew = false;
  heartbeatTimer: unknown = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    protocols: GroupProtocol[],
  ) {
    this.protocols = protocols;
  }

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  metadataFor(protocol: string): Buffer {
    const found = this.protocols.find((p) => p.name === protocol);
    if (!found) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return found.metadata;
  }

  /** Same protocols with the same metadata, in the same order: a rejoin that changes nothing. */
  matches(protocols: GroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every(
      (p, i) => p.name === this.protocols[i].name && p.metadata.equals(this.protocols[i].metadata),
    );
  }

  /** This member's vote: its most preferred protocol among those every member supports. */
  vote(candidates: Set<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    if (!choice) throw new Error(`member ${this.memberId} supports none of ${[...candidates].join(', ')}`);
    return choice.name;
  }
}

export interface PendingOffsetCommit {
  count: number;
}

export class ClassicGroup {
  state = GroupState.Empty;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** When the group last changed state (ms); kept in GroupMetadataValue for offset expiry (KIP-211). */
  currentStateTimestamp: number | null;
  readonly members = new Map<string, GroupMember>();
  /** group.instance.id → member id (KIP-345 static membership). */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED whose owners have not joined with them yet (KIP-394). */
  readonly pendingMembers = new Map<string, unknown>();
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** Set when a new member joins during the first rebalance, so the initial delay is extended. */
  newMemberAdded = false;
  /** The rebalance of a formerly Empty group waits out group.initial.rebalance.delay.ms even when all have joined. */
  inInitialDelay = false;
  /** Topics the members subscribe to, decoded from consumer-protocol metadata; null when unknown. */
  subscribedTopics: Set<string> | null = null;
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** Commits appended but not yet durable, per "topic\0partition" (require_stable, deletion). */
  readonly pendingOffsetCommits = new Map<string, number>();
  joinTimer: unknown = null;
  syncTimer: unknown = null;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  /** A request with a group.instance.id whose registered member id is another one comes from a fenced zombie. */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    if (groupInstanceId === null) return false;
    const registered = this.staticMembers.get(groupInstanceId);
    return registered !== undefined && registered !== memberId;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
  }

  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    return member;
  }

  /** Gives a static member its new member id; its old id is forgotten (the old client is fenced). */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`static member ${groupInstanceId} has no member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return member;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin && this.pendingMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** The longest rebalance timeout among the members: how long a rebalance waits for them. */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocols every member supports (in the first member's preference order). */
  candidateProtocols(): Set<string> {
    const members = [...this.members.values()];
    if (members.length === 0) return new Set();
    const result = new Set<string>();
    for (const p of members[0].protocols) {
      if (members.every((m) => m.protocols.some((q) => q.name === p.name))) result.add(p.name);
    }
    return result;
  }

  /** Whether a member with this protocol type and these protocols may join (else INCONSISTENT_GROUP_PROTOCOL). */
  supportsProtocols(protocolType: string, protocols: GroupProtocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /**
   * Kafka's choice of protocol: every member votes for its most preferred protocol among those all
   * members support, and the protocol with the most votes wins. Ties go to the protocol the first
   * member prefers, which makes the choice deterministic.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (candidates.size === 0) throw new Error(`group ${this.groupId} has no protocol every member supports`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const name of candidates) {
      const n = votes.get(name) ?? 0;
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best!;
  }

  /** Ends a rebalance: a new generation, its protocol and leader, and CompletingRebalance (or Empty). */
  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo(GroupState.CompletingRebalance, now);
    } else {
      this.protocolName = null;
      this.subscribedTopics = null;
      this.transitionTo(GroupState.Empty, now);
    }
    this.pendingSyncMembers.clear();
    for (const id of this.members.keys()) this.pendingSyncMembers.add(id);
  }

  /** The leader's JoinGroup answer: every member's metadata for the chosen protocol. */
  currentMemberMetadata(): JoinGroupMemberInfo[] {
    const protocol = this.protocolName;
    if (protocol === null) return [];
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }

  /**
   * Topics of the consumer-protocol subscriptions, for OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC) and offset
   * expiry. Null when the group is not a consumer group or some subscription cannot be decoded.
   */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const decoded = decodeSubscriptionTopics(m.metadataFor(this.protocolName));
      if (decoded === null) return null;
      for (const t of decoded) topics.add(t);
    }
    return topics;
  }

  /** Whether a consumer group's members may be reading `topic` (unknown subscriptions count as yes). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic);
  }

  // ── offsets ───────────────────────────────────────────────────────────────────────────────────

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, committed: CommittedOffset): void {
    let partitions = this.offsets.get(topic);
    if (!partitions) this.offsets.set(topic, (partitions = new Map()));
    partitions.set(partition, committed);
  }

  removeOffset(topic: string, partition: number): boolean {
    const partitions = this.offsets.get(topic);
    if (!partitions?.delete(partition)) return false;
    if (partitions.size === 0) this.offsets.delete(topic);
    return true;
  }

  get hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0;
  }

  *allOffsets(): Generator<{ topic: string; partition: number; committed: CommittedOffset }> {
    for (const [topic, partitions] of this.offsets) {
      for (const [partition, committed] of partitions) yield { topic, partition, committed };
    }
  }

  hasPendingOffsetCommit(topic: string, partition: number): boolean {
    return this.pendingOffsetCommits.has(pendingKey(topic, partition));
  }

  /** What GroupMetadataValue stores: the members with the chosen protocol's metadata and their assignment. */
  toMetadataValue(assignments?: Map<string, Buffer>): GroupMetadataValue {
    const protocol = this.protocolName;
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol,
      leader: this.leaderId,
      currentStateTimestamp: BigInt(this.currentStateTimestamp ?? -1),
      members:
        protocol === null
          ? []
          : [...this.members.values()].map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              rebalanceTimeoutMs: m.rebalanceTimeoutMs,
              sessionTimeoutMs: m.sessionTimeoutMs,
              subscription: m.metadataFor(protocol),
              assignment: assignments?.get(m.memberId) ?? m.assignment,
            })),
    };
  }
}

export function pendingKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The topics of a ConsumerProtocolSubscription (int16 version, then the data schema); null if undecodable. */
export function decodeSubscriptionTopics(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    // Newer versions only append fields, so they decode as the newest version this code knows.
    const readAs = Math.min(version, ConsumerProtocolSubscriptionCodec.maxVersion);
    return ConsumerProtocolSubscriptionCodec.decode(r, readAs).topics;
  } catch {
    return null;
  }
}

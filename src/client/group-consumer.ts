/**
 * A consumer group member on Kafka's classic protocol: JoinGroup, SyncGroup (the leader assigns with the
 * range or round-robin assignor, like Java's), heartbeats, committed offsets as starting positions,
 * commits (periodic and on close) and LeaveGroup. Records come out of `records()` as from
 * PartitionConsumer; a rebalance commits what was consumed and rejoins.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { JoinGroupApi, type JoinGroupResponseMember } from '../protocol/generated/11-join-group.js';
import { HeartbeatApi } from '../protocol/generated/12-heartbeat.js';
import { LeaveGroupApi } from '../protocol/generated/13-leave-group.js';
import { SyncGroupApi } from '../protocol/generated/14-sync-group.js';
import { encodeConsumerProtocolAssignment } from '../protocol/generated/consumer-protocol-assignment.js';
import {
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolSubscription,
} from '../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { Admin, decodeAssignment } from './admin.js';
import type { KafkaClient } from './client.js';
import {
  type ConsumedRecord,
  decodeFetchedRecords,
  type FetchOptions,
  fetchPartitions,
  listOffsets,
} from './consumer.js';
import { ConnectionError, KafkaError } from './errors.js';

export type Assignor = 'range' | 'roundrobin';

export interface GroupConsumerOptions extends FetchOptions {
  groupId: string;
  topics: string[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** 0 turns periodic commits off (offsets are still committed on rebalance and close). Default 5 s. */
  autoCommitIntervalMs?: number;
  /** Where a partition without a committed offset starts. Default 'latest', as in Kafka. */
  autoOffsetReset?: 'earliest' | 'latest';
  /** In order of preference. Default ['range', 'roundrobin']. */
  assignors?: Assignor[];
  /** Stop once every assigned partition has reached its high watermark. Default false (follow). */
  exitAtEnd?: boolean;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

type Subscriptions = Array<{ memberId: string; topics: string[] }>;

/** Java's RangeAssignor: per topic, members in id order each take a contiguous run of partitions. */
export function rangeAssign(
  members: Subscriptions,
  partitionCounts: Map<string, number>,
): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  for (const topic of topics) {
    const count = partitionCounts.get(topic) ?? 0;
    const subscribed = members
      .filter((m) => m.topics.includes(topic))
      .map((m) => m.memberId)
      .sort();
    const per = Math.floor(count / subscribed.length);
    const extra = count % subscribed.length;
    subscribed.forEach((memberId, i) => {
      const start = i * per + Math.min(i, extra);
      const length = per + (i < extra ? 1 : 0);
      for (let p = start; p < start + length; p++) out.get(memberId)!.push({ topic, partition: p });
    });
  }
  return out;
}

/** Java's RoundRobinAssignor: every partition of every topic, in order, dealt to the subscribed members in turn. */
export function roundRobinAssign(
  members: Subscriptions,
  partitionCounts: Map<string, number>,
): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1));
  const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
  let next = 0;
  for (const topic of topics) {
    for (let p = 0; p < (partitionCounts.get(topic) ?? 0); p++) {
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[next++ % sorted.length];
        if (m.topics.includes(topic)) {
          out.get(m.memberId)!.push({ topic, partition: p });
          break;
        }
      }
    }
  }
  return out;
}

export function encodeSubscription(topics: string[]): Buffer {
  const w = new Writer(64);
  w.int16(0);
  encodeConsumerProtocolSubscription(w, 0, {
    topics,
    userData: null,
    ownedPartitions: [],
    generationId: -1,
    rackId: null,
  });
  return Buffer.from(w.toBuffer());
}

export function decodeSubscription(bytes: Buffer): string[] {
  const r = new Reader(bytes);
  const version = r.int16();
  return decodeConsumerProtocolSubscription(r, Math.min(version, 3)).topics;
}

export function encodeAssignment(partitions: TopicPartition[]): Buffer {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    let list = byTopic.get(tp.topic);
    if (!list) byTopic.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  const w = new Writer(64);
  w.int16(0);
  encodeConsumerProtocolAssignment(w, 0, {
    assignedPartitions: [...byTopic].map(([topic, ps]) => ({ topic, partitions: ps })),
    userData: null,
  });
  return Buffer.from(w.toBuffer());
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GroupConsumer {
  memberId = '';
  generationId = -1;
  assignment: TopicPartition[] = [];
  /** Next offset to consume per assigned partition (`topic\0partition`). */
  readonly positions = new Map<string, { topic: string; partition: number; offset: bigint }>();
  private readonly committed = new Map<string, bigint>();
  private needsJoin = true;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastCommit = Date.now();
  private readonly admin: Admin;
  private readonly o: Required<Omit<GroupConsumerOptions, keyof FetchOptions>> & FetchOptions;

  constructor(
    private readonly client: KafkaClient,
    options: GroupConsumerOptions,
  ) {
    this.admin = new Admin(client);
    this.o = {
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      autoCommitIntervalMs: 5_000,
      autoOffsetReset: 'latest',
      assignors: ['range', 'roundrobin'],
      exitAtEnd: false,
      ...options,
    };
  }

  get groupId(): string {
    return this.o.groupId;
  }

  async *records(): AsyncGenerator<ConsumedRecord> {
    const atEnd = new Set<string>();
    while (!this.stopped) {
      if (this.needsJoin) {
        await this.commit().catch(() => {});
        await this.join();
        atEnd.clear();
        continue;
      }
      const wanted = [...this.positions].filter(([id]) => !atEnd.has(id)).map(([, p]) => p);
      if (this.o.exitAtEnd && wanted.length === 0) return;
      if (wanted.length === 0) {
        await sleep(Math.min(500, this.o.heartbeatIntervalMs));
        continue;
      }
      let fetched: Awaited<ReturnType<typeof fetchPartitions>>;
      try {
        fetched = await fetchPartitions(this.client, wanted, this.o);
      } catch (err) {
        if (!(err instanceof ConnectionError) && !(err instanceof KafkaError && err.retriable)) throw err;
        for (const p of wanted) this.client.invalidateTopic(p.topic);
        await sleep(200);
        continue;
      }
      for (const f of fetched) {
        const id = `${f.topic}\0${f.partition}`;
        const position = this.positions.get(id);
        if (!position || this.needsJoin) continue;
        if (f.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const reset = await listOffsets(this.client, f.topic, [f.partition], this.o.autoOffsetReset);
          position.offset = reset.get(f.partition)?.offset ?? 0n;
          continue;
        }
        if (f.errorCode !== ErrorCode.NONE) {
          const err = new KafkaError(f.errorCode, `${f.topic}-${f.partition}`);
          if (!err.retriable) throw err;
          this.client.invalidateTopic(f.topic);
          continue;
        }
        const { records, nextOffset } = await decodeFetchedRecords(f.topic, f.partition, f.records, position.offset);
        for (const r of records) {
          if (this.stopped) return;
          position.offset = r.offset + 1n;
          yield r;
        }
        if (this.stopped) return;
        position.offset = nextOffset;
        if (this.o.exitAtEnd && position.offset >= f.highWatermark) atEnd.add(id);
      }
      if (this.o.autoCommitIntervalMs > 0 && Date.now() - this.lastCommit >= this.o.autoCommitIntervalMs) {
        await this.commit().catch(() => {});
      }
    }
  }

  /** Commits the current positions of partitions that moved since the last commit. */
  async commit(): Promise<void> {
    this.lastCommit = Date.now();
    if (this.generationId < 0) return;
    const changed = [...this.positions]
      .filter(([id, p]) => this.committed.get(id) !== p.offset)
      .map(([, p]) => ({ topic: p.topic, partition: p.partition, offset: p.offset }));
    if (changed.length === 0) return;
    const results = await this.admin.commitOffsets(this.o.groupId, changed, {
      generationId: this.generationId,
      memberId: this.memberId,
    });
    for (const r of results) {
      if (r.errorCode === ErrorCode.NONE) {
        const p = this.positions.get(`${r.topic}\0${r.partition}`);
        if (p) this.committed.set(`${r.topic}\0${r.partition}`, p.offset);
      } else if (
        r.errorCode === ErrorCode.REBALANCE_IN_PROGRESS ||
        r.errorCode === ErrorCode.ILLEGAL_GENERATION ||
        r.errorCode === ErrorCode.UNKNOWN_MEMBER_ID
      ) {
        this.needsJoin = true;
      }
    }
  }

  /** Stops `records()`, commits, and leaves the group so the others rebalance at once. */
  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeatTimer);
    if (this.generationId >= 0) await this.commit().catch(() => {});
    if (this.memberId === '') return;
    try {
      const coordinator = await this.client.coordinatorFor(this.o.groupId);
      await this.client.sendTo(coordinator, LeaveGroupApi, (version) => {
        const request = LeaveGroupApi.defaultRequest();
        request.groupId = this.o.groupId;
        if (version >= 3)
          request.members = [{ memberId: this.memberId, groupInstanceId: null, reason: 'consumer closed' }];
        else request.memberId = this.memberId;
        return request;
      });
    } catch {
      // The session timeout removes the member anyway.
    }
    this.memberId = '';
  }

  private async join(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    this.generationId = -1;
    for (;;) {
      const coordinator = await this.client.coordinatorFor(this.o.groupId);
      const metadata = encodeSubscription(this.o.topics);
      let joined: Awaited<ReturnType<typeof this.sendJoin>>;
      try {
        joined = await this.sendJoin(coordinator, metadata);
      } catch (err) {
        if (err instanceof ConnectionError) {
          this.client.invalidateCoordinator(this.o.groupId);
          await sleep(200);
          continue;
        }
        throw err;
      }
      if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the first JoinGroup only hands out a member id; join again with it.
        this.memberId = joined.memberId;
        continue;
      }
      if (joined.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = '';
        continue;
      }
      if (
        joined.errorCode === ErrorCode.NOT_COORDINATOR ||
        joined.errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
        joined.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
        joined.errorCode === ErrorCode.REBALANCE_IN_PROGRESS
      ) {
        this.client.invalidateCoordinator(this.o.groupId);
        await sleep(200);
        continue;
      }
      if (joined.errorCode !== ErrorCode.NONE)
        throw new KafkaError(joined.errorCode, `joining group "${this.o.groupId}"`);
      this.memberId = joined.memberId;
      const generationId = joined.generationId;
      const protocol = joined.protocolName ?? 'range';
      const assignments =
        joined.leader === joined.memberId ? await this.assign(protocol as Assignor, joined.members) : [];
      const synced = await this.client.sendTo(
        coordinator,
        SyncGroupApi,
        (version) => {
          const request = SyncGroupApi.defaultRequest();
          request.groupId = this.o.groupId;
          request.generationId = generationId;
          request.memberId = this.memberId;
          request.groupInstanceId = null;
          if (version >= 5) {
            request.protocolType = 'consumer';
            request.protocolName = protocol;
          }
          request.assignments = assignments;
          return request;
        },
        this.o.rebalanceTimeoutMs + 5_000,
      );
      if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
      if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || synced.errorCode === ErrorCode.ILLEGAL_GENERATION) {
        if (synced.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        continue;
      }
      if (synced.errorCode !== ErrorCode.NONE)
        throw new KafkaError(synced.errorCode, `syncing group "${this.o.groupId}"`);
      this.generationId = generationId;
      this.assignment = decodeAssignment(synced.assignment).flatMap((a) =>
        a.partitions.map((partition) => ({ topic: a.topic, partition })),
      );
      await this.loadPositions();
      this.needsJoin = false;
      this.startHeartbeats();
      return;
    }
  }

  private sendJoin(coordinator: number, metadata: Buffer) {
    return this.client.sendTo(
      coordinator,
      JoinGroupApi,
      (version) => {
        const request = JoinGroupApi.defaultRequest();
        request.groupId = this.o.groupId;
        request.sessionTimeoutMs = this.o.sessionTimeoutMs;
        request.rebalanceTimeoutMs = this.o.rebalanceTimeoutMs;
        request.memberId = this.memberId;
        request.groupInstanceId = null;
        request.protocolType = 'consumer';
        request.protocols = this.o.assignors.map((name) => ({ name, metadata }));
        if (version >= 8) request.reason = null;
        return request;
      },
      this.o.rebalanceTimeoutMs + 5_000,
    );
  }

  /** The leader's work: every member's partitions, by the chosen assignor. */
  private async assign(protocol: Assignor, members: JoinGroupResponseMember[]) {
    const subscriptions = members.map((m) => ({ memberId: m.memberId, topics: decodeSubscription(m.metadata) }));
    const counts = new Map<string, number>();
    for (const topic of new Set(subscriptions.flatMap((s) => s.topics))) {
      try {
        counts.set(topic, (await this.client.topic(topic, { refresh: true })).partitions.length);
      } catch (err) {
        if (!(err instanceof KafkaError) || err.code !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) throw err;
      }
    }
    const plan =
      protocol === 'roundrobin' ? roundRobinAssign(subscriptions, counts) : rangeAssign(subscriptions, counts);
    return [...plan].map(([memberId, partitions]) => ({ memberId, assignment: encodeAssignment(partitions) }));
  }

  /** Starting positions: the committed offset, else the reset policy's end of the log. */
  private async loadPositions(): Promise<void> {
    this.positions.clear();
    this.committed.clear();
    if (this.assignment.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const tp of this.assignment) {
      let list = byTopic.get(tp.topic);
      if (!list) byTopic.set(tp.topic, (list = []));
      list.push(tp.partition);
    }
    const committed = await this.admin.fetchOffsets(
      this.o.groupId,
      [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    );
    const known = new Map(committed.filter((c) => c.offset >= 0n).map((c) => [`${c.topic}\0${c.partition}`, c.offset]));
    for (const [topic, partitions] of byTopic) {
      const missing = partitions.filter((p) => !known.has(`${topic}\0${p}`));
      const reset =
        missing.length > 0 ? await listOffsets(this.client, topic, missing, this.o.autoOffsetReset) : new Map();
      for (const partition of partitions) {
        const id = `${topic}\0${partition}`;
        const offset = known.get(id) ?? reset.get(partition)?.offset ?? 0n;
        this.positions.set(id, { topic, partition, offset });
        if (known.has(id)) this.committed.set(id, offset);
      }
    }
  }

  private startHeartbeats(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.needsJoin || this.stopped) return;
      this.heartbeat().catch(() => {});
    }, this.o.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    const coordinator = await this.client.coordinatorFor(this.o.groupId);
    const response = await this.client.sendTo(coordinator, HeartbeatApi, {
      groupId: this.o.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
    });
    switch (response.errorCode) {
      case ErrorCode.NONE:
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.memberId = '';
        this.needsJoin = true;
        return;
      case ErrorCode.NOT_COORDINATOR:
      case ErrorCode.COORDINATOR_NOT_AVAILABLE:
        this.client.invalidateCoordinator(this.o.groupId);
        return;
      default:
        // REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, FENCED_INSTANCE_ID: join again.
        this.needsJoin = true;
    }
  }
}

/** A coordinator on a fake clock over an in-memory __consumer_offsets, and shorthands to drive it. */
import { ClassicGroup, GroupState, type JoinGroupResult } from '../../../src/coordinator/group/classic-group.js';
import {
  GroupCoordinator,
  type GroupCoordinatorConfig,
  type JoinGroupParams,
} from '../../../src/coordinator/group/group-coordinator.js';
import { type CoordinatorLog, MemoryCoordinatorLog } from '../../../src/coordinator/runtime/coordinator-log.js';
import { FakeTimers } from '../../../src/coordinator/runtime/timers.js';
import { ConsumerProtocolSubscriptionCodec } from '../../../src/protocol/generated/consumer-protocol-subscription.js';
import { Writer } from '../../../src/protocol/writer.js';

export { ClassicGroup, GroupState };

export const CONFIG: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 1000,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
};

export interface Harness {
  coordinator: GroupCoordinator;
  log: MemoryCoordinatorLog;
  timers: FakeTimers;
}

export async function startCoordinator(
  config: Partial<GroupCoordinatorConfig> = {},
  log: MemoryCoordinatorLog = new MemoryCoordinatorLog(50),
  timers: FakeTimers = new FakeTimers(),
): Promise<Harness> {
  const coordinator = new GroupCoordinator({ log: log as CoordinatorLog, config: { ...CONFIG, ...config }, timers });
  await coordinator.load();
  return { coordinator, log, timers };
}

/** ConsumerProtocolSubscription v0 bytes (int16 version, then topics and null user data). */
export function subscription(...topics: string[]): Buffer {
  const w = new Writer();
  w.int16(0);
  ConsumerProtocolSubscriptionCodec.encode(w, 0, { ...ConsumerProtocolSubscriptionCodec.defaultValue(), topics });
  return Buffer.from(w.toBuffer());
}

export function joinParams(overrides: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription('t') }],
    requireKnownMemberId: false,
    ...overrides,
  };
}

/** A promise and whether it has settled yet (checked after `settle()`). */
export function track<T>(promise: Promise<T>): { promise: Promise<T>; done: () => boolean; value: () => T } {
  let settled = false;
  let result: T | undefined;
  void promise.then((v) => {
    settled = true;
    result = v;
  });
  return { promise, done: () => settled, value: () => result as T };
}

/** Lets pending promise callbacks (appends, parked answers) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Advances the fake clock in small steps, letting promises settle after each, until `done()` holds. */
export async function advanceUntil(h: Harness, done: () => boolean, stepMs = 100, maxMs = 120_000): Promise<number> {
  let t = 0;
  await new Promise((r) => setImmediate(r));
  while (!done()) {
    if (t > maxMs) throw new Error(`condition not reached within ${maxMs} ms of fake time`);
    h.timers.advance(stepMs);
    t += stepMs;
    await new Promise((r) => setImmediate(r));
  }
  return t;
}

/**
 * Brings `count` members into a Stable group: all join during the initial delay, the leader assigns
 * `assignment(memberId)` to each. Returns the member ids (leader first) and the generation.
 */
export async function stableGroup(
  h: Harness,
  count: number,
  overrides: Partial<JoinGroupParams> = {},
): Promise<{ memberIds: string[]; leader: string; generationId: number; results: JoinGroupResult[] }> {
  const joins = Array.from({ length: count }, (_, i) =>
    track(h.coordinator.joinGroup(joinParams({ clientId: `c${i}`, ...overrides }))),
  );
  await advanceUntil(h, () => joins.every((j) => j.done()));
  await settle();
  const results = joins.map((j) => j.value());
  const leader = results[0].leader;
  const generationId = results[0].generationId;
  const syncs = results.map((r) =>
    h.coordinator.syncGroup({
      groupId: overrides.groupId ?? 'g',
      generationId,
      memberId: r.memberId,
      groupInstanceId: overrides.groupInstanceId ?? null,
      protocolType: null,
      protocolName: null,
      assignments:
        r.memberId === leader
          ? results.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(m.memberId) }))
          : [],
    }),
  );
  await Promise.all(syncs);
  const memberIds = [leader, ...results.map((r) => r.memberId).filter((id) => id !== leader)];
  return { memberIds, leader, generationId, results };
}

/** An append that completes only when the test says so, to observe the time before durability. */
export class GatedLog extends MemoryCoordinatorLog {
  private gates: Array<() => void> = [];

  override async append(partition: number, batch: Buffer): Promise<{ baseOffset: bigint }> {
    await new Promise<void>((resolve) => this.gates.push(resolve));
    return super.append(partition, batch);
  }

  get waiting(): number {
    return this.gates.length;
  }

  release(): void {
    const gates = this.gates;
    this.gates = [];
    for (const g of gates) g();
  }
}

/**
 * Everything a coordinator's groups keep in __consumer_offsets, as seen from outside: what a fresh
 * coordinator replaying the same log must hold too.
 */
export function groupsSnapshot(coordinator: GroupCoordinator) {
  const view = (g: ClassicGroup) => ({
    state: g.state,
    generationId: g.generationId,
    protocolType: g.protocolType,
    protocolName: g.protocolName,
    leaderId: g.leaderId,
    // When an Empty group emptied is what its offsets expire from (KIP-211), so it must survive a reload.
    emptiedAt: g.state === 'Empty' && g.protocolType !== null ? g.currentStateTimestamp : undefined,
    members: [...g.members.values()]
      .map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        assignment: m.assignment.toString('hex'),
      }))
      .sort((a, b) => a.memberId.localeCompare(b.memberId)),
    offsets: [...g.allOffsets()]
      .map(({ topic, partition, committed }) => ({ topic, partition, ...committed }))
      .sort((a, b) => `${a.topic}/${a.partition}`.localeCompare(`${b.topic}/${b.partition}`)),
  });
  return Object.fromEntries(
    coordinator
      .groupIds()
      .sort()
      .map((id) => [id, view(coordinator.group(id)!)]),
  );
}

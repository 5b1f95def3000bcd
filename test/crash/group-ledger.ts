/**
 * The consumer group side of the crash cycles: one real member of group `crash-group` consumes every
 * partition while the writers produce, and commits as it goes. The ledger records every commit it sent
 * and which of them the broker acknowledged, and every record the member received.
 *
 * After each restart (see `rejoin` and `resume`), per partition:
 * - the committed offset (OffsetFetch) is not behind the last acknowledged commit: it is that commit, or
 *   one sent after it whose answer the crash cut off; never any other value;
 * - it is not beyond the partition's log end offset;
 * - every record the member received before the crash is still at its offset (the high watermark only
 *   covers fsynced data, so a consumer never sees a record a crash can take back);
 * - the member rejoins under its own member id, in a newer generation, is assigned every partition, and
 *   its group answers the same committed offsets;
 * - consuming from the committed offset to the log end yields each record once, in offset order, equal
 *   to the verified log (so each acknowledged record after the commit point exactly once);
 * - committing the new position is acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { fetchCommittedOffsets, GroupMember } from './group-member.js';
import { ConnectionLost, WireClient } from './wire-client.js';

export const GROUP_ID = 'crash-group';
const HEARTBEAT_INTERVAL_MS = 500;
/** Commits a member may have unanswered at once: one in the log, one queued behind it. */
const COMMITS_IN_FLIGHT = 2;
const FETCH_MAX_WAIT_MS = 50;

export class GroupCheckFailure extends Error {
  override name = 'GroupCheckFailure';
}

export interface GroupReport {
  /** OffsetCommit requests acknowledged in cycles whose crash was then checked. */
  commitsVerified: number;
  /** Commits sent but unanswered at a kill whose offset the group turned out to hold after the restart. */
  unacknowledgedCommitsKept: number;
  /** Records the member received before a kill and found again after the restart. */
  consumedVerified: number;
  /** Records received again from the committed offset after a restart. */
  replayedVerified: number;
  rejoins: number;
}

export class GroupLedger {
  readonly report: GroupReport = {
    commitsVerified: 0,
    unacknowledgedCommitsKept: 0,
    consumedVerified: 0,
    replayedVerified: 0,
    rejoins: 0,
  };
  private client: WireClient | null = null;
  private member: GroupMember | null = null;
  /** Carried across restarts: the member rejoins as itself. */
  private memberId = '';
  private generationId = -1;
  /** Per partition: the offset of the last acknowledged commit (or of the commit found after a restart). */
  private readonly acked: Array<bigint | null>;
  /** Per partition: commits sent whose answer has not arrived, in send order (so in offset order). */
  private readonly unanswered: bigint[][];
  /** Per partition: the next offset to consume, and the offset last sent in a commit. */
  private readonly positions: bigint[];
  private readonly lastSent: bigint[];
  /** Per partition: records received since the last restart, from `from` on. */
  private readonly consumed: Array<{ from: number; values: string[] }>;
  /** The group's committed offsets as read at the last rejoin, checked by the following `resume`. */
  private committed: bigint[] | null = null;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ackedThisCycle = 0;
  private commitsInFlight = 0;
  private failure: Error | null = null;

  constructor(
    private readonly topic: string,
    private readonly partitions: number,
    /** The verified log: value by offset per partition, complete after each check. */
    private readonly model: Array<Array<string | undefined>>,
  ) {
    this.acked = Array.from({ length: partitions }, () => null);
    this.unanswered = Array.from({ length: partitions }, () => []);
    this.positions = Array.from({ length: partitions }, () => 0n);
    this.lastSent = Array.from({ length: partitions }, () => -1n);
    this.consumed = Array.from({ length: partitions }, () => ({ from: 0, values: [] }));
  }

  /**
   * Right after a (re)start, before the log is checked (which may outlast a session timeout): reads the
   * committed offsets, rejoins and heartbeats from then on. `memberKept`: the member did not leave, so
   * the group must still know it.
   */
  async rejoin(port: number, where: string, memberKept: boolean): Promise<void> {
    this.close();
    const client = await WireClient.connect(port);
    this.client = client;
    this.committed = await fetchCommittedOffsets(client, GROUP_ID, this.topic, this.partitions);

    const member = new GroupMember(client, { groupId: GROUP_ID, topic: this.topic, partitions: this.partitions });
    member.memberId = this.memberId;
    const before = { memberId: this.memberId, generationId: this.generationId };
    await member.join();
    this.member = member;
    if (memberKept && member.memberId !== before.memberId) {
      throw new GroupCheckFailure(
        `${where}: the group forgot member ${before.memberId}; it rejoined as ${member.memberId}`,
      );
    }
    if (member.generationId <= before.generationId) {
      throw new GroupCheckFailure(
        `${where}: the group rejoined in generation ${member.generationId}, not after ${before.generationId}`,
      );
    }
    if (member.assignment.join(',') !== Array.from({ length: this.partitions }, (_, p) => p).join(',')) {
      throw new GroupCheckFailure(
        `${where}: the only member was assigned partitions [${member.assignment.join(', ')}]`,
      );
    }
    this.memberId = member.memberId;
    this.generationId = member.generationId;
    this.report.rejoins++;
    this.startHeartbeats(where);
  }

  /**
   * After `rejoin` and the log check: checks the committed offsets against the ledger and the verified
   * log, consumes from them to the log end and commits there.
   */
  async resume(where: string): Promise<void> {
    const client = this.client;
    const member = this.member;
    const committed = this.committed;
    if (!client || !member || !committed) throw new GroupCheckFailure(`${where}: resume() before rejoin()`);
    if (this.failure) throw this.failure;
    const logEnd = this.model.map((m) => BigInt(m.length));

    for (let p = 0; p < this.partitions; p++) {
      const c = committed[p]!;
      const acked = this.acked[p] ?? null;
      const unanswered = this.unanswered[p]!;
      const at = `${where}, ${GROUP_ID} on ${this.topic}-${p}`;
      if (acked !== null && c < acked) {
        throw new GroupCheckFailure(`${at}: committed offset ${c} is behind the acknowledged commit ${acked}`);
      }
      if (c > logEnd[p]!) {
        throw new GroupCheckFailure(`${at}: committed offset ${c} is beyond the log end offset ${logEnd[p]}`);
      }
      if (c !== (acked ?? -1n)) {
        if (!unanswered.includes(c)) {
          throw new GroupCheckFailure(
            `${at}: committed offset ${c} was never committed (acknowledged ${acked ?? 'none'}, unanswered [${unanswered.join(', ')}])`,
          );
        }
        this.report.unacknowledgedCommitsKept++;
      }
      this.acked[p] = c >= 0n ? c : null;
      unanswered.length = 0;

      const { from, values } = this.consumed[p]!;
      values.forEach((value, i) => {
        const held = this.model[p]![from + i];
        if (held !== value) {
          throw new GroupCheckFailure(
            `${at}: the member received ${value} at offset ${from + i} before the crash; the log now holds ${held ?? 'nothing'} there`,
          );
        }
      });
      this.report.consumedVerified += values.length;
    }
    this.report.commitsVerified += this.ackedThisCycle;
    this.ackedThisCycle = 0;

    // The member starts where its group says, which is what was checked above.
    const start = await member.committed();
    for (let p = 0; p < this.partitions; p++) {
      if (start[p] !== committed[p]) {
        throw new GroupCheckFailure(
          `${where}: ${this.topic}-${p} committed ${committed[p]} before the rejoin, then ${start[p]}`,
        );
      }
      this.positions[p] = start[p]! >= 0n ? start[p]! : 0n;
      this.lastSent[p] = -1n;
      this.consumed[p] = { from: Number(this.positions[p]), values: [] };
    }

    // Catch up to the log end: nothing is being produced, so the member must get exactly the verified log.
    const deadline = Date.now() + 60_000;
    while (this.positions.some((position, p) => position < logEnd[p]!)) {
      if (Date.now() > deadline) throw new GroupCheckFailure(`${where}: the member did not reach the log end in 60 s`);
      const behind = this.positions
        .map((offset, partition) => ({ partition, offset }))
        .filter((x) => x.offset < logEnd[x.partition]!);
      this.take(await client.fetchMany(this.topic, behind, 0), where);
    }
    for (let p = 0; p < this.partitions; p++) {
      if (this.positions[p] !== logEnd[p]) {
        throw new GroupCheckFailure(
          `${where}: ${this.topic}-${p} consumed up to ${this.positions[p]}, the log ends at ${logEnd[p]}`,
        );
      }
      this.report.replayedVerified += Number(logEnd[p]! - (committed[p]! >= 0n ? committed[p]! : 0n));
      this.consumed[p] = { from: Number(logEnd[p]), values: [] };
    }

    this.sendCommit(new Map(this.positions.map((offset, p) => [p, offset])));
    while (this.commitsInFlight > 0 && !this.failure) await sleep(1);
    if (this.failure) throw this.failure;
    for (let p = 0; p < this.partitions; p++) {
      if (this.acked[p] !== this.positions[p]) {
        throw new GroupCheckFailure(
          `${where}: the commit of ${this.topic}-${p} at ${this.positions[p]} was not acknowledged`,
        );
      }
    }
  }

  /**
   * While the writers produce: fetch, check and commit (heartbeats go on from `rejoin`), until the
   * connection dies with the broker.
   * Resolves with the first failure seen (never rejects, so it can run beside the writers).
   */
  async consume(where: string): Promise<Error | null> {
    const client = this.client;
    const member = this.member;
    if (!client || !member) return new GroupCheckFailure(`${where}: consume() before resume()`);
    try {
      while (!this.failure) {
        const positions = this.positions.map((offset, partition) => ({ partition, offset }));
        this.take(await client.fetchMany(this.topic, positions, FETCH_MAX_WAIT_MS), where);
        const moved = new Map<number, bigint>();
        this.positions.forEach((offset, p) => {
          if (offset !== this.lastSent[p]) moved.set(p, offset);
        });
        if (moved.size > 0 && this.commitsInFlight < COMMITS_IN_FLIGHT) this.sendCommit(moved);
      }
    } catch (err) {
      if (!(err instanceof ConnectionLost)) this.failure ??= err as Error;
    }
    // Commits still in flight fail with the connection; they stay unanswered.
    while (this.commitsInFlight > 0) await sleep(1);
    return this.failure;
  }

  /** Leaves the group (before a clean stop): the next `resume` joins as a new member. */
  async leave(where: string): Promise<void> {
    const code = await this.member?.leave();
    if (code !== undefined && code !== ErrorCode.NONE)
      throw new GroupCheckFailure(`${where}: LeaveGroup: ${ErrorCode[code]}`);
    this.memberId = '';
    this.close();
  }

  close(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.client?.close();
    this.client = null;
    this.member = null;
    this.committed = null;
  }

  /** Heartbeats every HEARTBEAT_INTERVAL_MS until `close`; an error answer is a failure (the only member). */
  private startHeartbeats(where: string): void {
    const member = this.member!;
    let inFlight = false;
    this.heartbeatTimer = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      member
        .heartbeat()
        .then(
          (code) => {
            if (code !== ErrorCode.NONE) {
              this.failure ??= new GroupCheckFailure(
                `after ${where}: heartbeat of ${member.memberId} in generation ${member.generationId}: ${ErrorCode[code]}`,
              );
            }
          },
          (err: Error) => {
            if (!(err instanceof ConnectionLost)) this.failure ??= err;
          },
        )
        .finally(() => {
          inFlight = false;
        });
    }, HEARTBEAT_INTERVAL_MS);
  }

  /** Takes fetched records: each partition's next record must be at its position, and match the log where known. */
  private take(fetched: Awaited<ReturnType<WireClient['fetchMany']>>, where: string): void {
    for (const f of fetched) {
      const at = `${where}, ${this.topic}-${f.partition}`;
      if (f.errorCode !== ErrorCode.NONE)
        throw new GroupCheckFailure(`${at}: Fetch answered ${ErrorCode[f.errorCode]}`);
      const consumed = this.consumed[f.partition]!;
      for (const r of f.records) {
        const position = this.positions[f.partition]!;
        if (r.offset !== position) {
          throw new GroupCheckFailure(`${at}: the member at position ${position} received offset ${r.offset}`);
        }
        if (r.offset >= f.highWatermark) {
          throw new GroupCheckFailure(
            `${at}: received offset ${r.offset} at or above the high watermark ${f.highWatermark}`,
          );
        }
        const value = r.value?.toString('utf8') ?? '<null>';
        const known = this.model[f.partition]![Number(r.offset)];
        if (known !== undefined && known !== value) {
          throw new GroupCheckFailure(`${at}: received ${value} at offset ${r.offset}, where the log holds ${known}`);
        }
        if (consumed.from + consumed.values.length !== Number(r.offset)) {
          throw new GroupCheckFailure(
            `${at}: received offset ${r.offset} after ${consumed.values.length} records from ${consumed.from}`,
          );
        }
        consumed.values.push(value);
        this.positions[f.partition] = position + 1n;
      }
    }
  }

  /** Sends one commit of `offsets` without waiting; its answer updates the ledger. */
  private sendCommit(offsets: Map<number, bigint>): void {
    const member = this.member!;
    for (const [p, offset] of offsets) {
      this.unanswered[p]!.push(offset);
      this.lastSent[p] = offset;
    }
    this.commitsInFlight++;
    member
      .commit(offsets)
      .then(
        (answers) => {
          let allAcknowledged = true;
          for (const [p, offset] of offsets) {
            const list = this.unanswered[p]!;
            list.splice(list.indexOf(offset), 1);
            const code = answers.get(p)!;
            if (code === ErrorCode.NONE) {
              this.acked[p] = offset;
            } else {
              allAcknowledged = false;
              // The only member, in its own generation: any error is the broker's.
              this.failure ??= new GroupCheckFailure(
                `commit of ${this.topic}-${p} at ${offset} (generation ${member.generationId}) answered ${ErrorCode[code]}`,
              );
            }
          }
          if (allAcknowledged) this.ackedThisCycle++;
        },
        (err: Error) => {
          if (!(err instanceof ConnectionLost)) this.failure ??= err;
        },
      )
      .finally(() => this.commitsInFlight--);
  }
}

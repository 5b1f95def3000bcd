/**
 * The partition's leader epoch history (Kafka's LeaderEpochFileCache): the first offset written in each
 * leader epoch. OffsetForLeaderEpoch answers from it, and replication uses it to truncate divergent logs.
 * Persisted as `leader-epoch-checkpoint` by the partition log.
 */
import type { EpochEntry } from './checkpoint-files.js';

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1n;

export class LeaderEpochCache {
  private list: EpochEntry[];

  constructor(entries: readonly EpochEntry[] = []) {
    this.list = [...entries].sort((a, b) => a.epoch - b.epoch);
  }

  entries(): EpochEntry[] {
    return this.list.map((e) => ({ ...e }));
  }

  latestEpoch(): number | null {
    return this.list.length === 0 ? null : this.list[this.list.length - 1]!.epoch;
  }

  /** Records that `epoch` starts at `startOffset`; returns whether the history changed. */
  assign(epoch: number, startOffset: bigint): boolean {
    if (epoch < 0) return false;
    const latest = this.list[this.list.length - 1];
    if (latest && epoch <= latest.epoch) return false;
    // An entry can never start before an earlier epoch's start: drop any that would overlap.
    this.list = this.list.filter((e) => e.startOffset < startOffset);
    this.list.push({ epoch, startOffset });
    return true;
  }

  /** Forgets epochs that start at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: bigint): boolean {
    const before = this.list.length;
    this.list = this.list.filter((e) => e.startOffset < endOffset);
    return this.list.length !== before;
  }

  /** Forgets epochs wholly below `startOffset`; the epoch in force there now starts at it. */
  truncateFromStart(startOffset: bigint): boolean {
    let changed = false;
    while (this.list.length > 1 && this.list[1]!.startOffset <= startOffset) {
      this.list.shift();
      changed = true;
    }
    const first = this.list[0];
    if (first && first.startOffset < startOffset) {
      this.list[0] = { epoch: first.epoch, startOffset };
      changed = true;
    }
    return changed;
  }

  /**
   * Kafka's endOffsetFor: the largest epoch at or below `requestedEpoch` and the offset where the next
   * epoch starts (the log end for the latest epoch); undefined (-1, -1) above the latest epoch.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: bigint): { leaderEpoch: number; endOffset: bigint } {
    const undefinedResult = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedResult;
    const latest = this.latestEpoch();
    if (latest !== null && requestedEpoch === latest) return { leaderEpoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.list.find((e) => e.epoch > requestedEpoch);
    if (!higher) return undefinedResult;
    let floor: EpochEntry | undefined;
    for (const e of this.list) if (e.epoch <= requestedEpoch) floor = e;
    return { leaderEpoch: floor ? floor.epoch : requestedEpoch, endOffset: higher.startOffset };
  }
}

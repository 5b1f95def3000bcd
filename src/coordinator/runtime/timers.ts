/**
 * The coordinator's clock and timers, behind an interface so tests can run session timeouts and
 * rebalance delays on a fake clock. Real timers are unref'd: a pending rebalance never keeps the
 * process alive on its own.
 */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export function realTimers(now: () => number = Date.now): Timers {
  return {
    now,
    setTimeout(fn, ms) {
      const t = setTimeout(fn, Math.max(0, ms));
      t.unref();
      return t;
    },
    clearTimeout(handle) {
      clearTimeout(handle as NodeJS.Timeout);
    },
  };
}

/** A manual clock: timers fire only when `advance` moves time past them, in deadline order. */
export class FakeTimers implements Timers {
  private time: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.time + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due (timers set meanwhile included). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: { id: number; at: number; seq: number; fn: () => void } | null = null;
      for (const [id, t] of this.pending) {
        if (t.at <= target && (next === null || t.at < next.at || (t.at === next.at && t.seq < next.seq))) {
          next = { id, ...t };
        }
      }
      if (next === null) break;
      this.pending.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = target;
  }

  get pendingCount(): number {
    return this.pending.size;
  }
}

/**
 * Running many small file operations at once. Opening or creating a thousand partitions is a few dozen
 * file-system calls each, nearly all waiting on the disk or libuv's thread pool: run one after another
 * they take seconds, run together (bounded, so descriptors and memory stay bounded) they overlap, and the
 * directory syncs they need can be shared.
 */

/** How many partitions open, create or close at once (Kafka's num.recovery.threads.per.data.dir, widened). */
export const PARTITION_CONCURRENCY = 32;

/**
 * Calls `fn` for every item with at most `limit` calls in flight; results keep the items' order. After a
 * failure no new call starts; the calls in flight are awaited, then the first failure is thrown.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
  return results;
}

/**
 * Group commit for an idempotent operation such as a directory sync: a caller arriving while a run is in
 * flight shares the next run (which starts when the current one ends), since the current run may have
 * started before the caller's change. So N concurrent callers cost two runs, not N.
 */
export class Coalescer {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly operation: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.then(
      () => undefined,
      () => undefined,
    );
    this.queued = after.then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const run = this.operation().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}

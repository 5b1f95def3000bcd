/**
 * A small JSON file holding a piece of the broker's metadata (the topic registry, client quota configs):
 * read once at start-up, rewritten whole after each change. Rewrites are serialized and atomic (a
 * fdatasynced `.tmp` renamed over the file), so a crash leaves either the old content or the new one.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export class JsonStateFile<T> {
  private saving: Promise<void> = Promise.resolve();

  /** @param dir where the file lives; null keeps the state in memory only (reads find nothing, writes do nothing). */
  constructor(
    private readonly dir: string | null,
    private readonly name: string,
  ) {}

  /** The file's content, or undefined when there is no directory or no file yet. */
  async read(): Promise<T | undefined> {
    if (this.dir === null) return undefined;
    let text: string;
    try {
      text = await readFile(join(this.dir, this.name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  /**
   * Rewrites the file once the previous rewrite is done, with what `body` returns then: the state at the
   * time of writing, so a later change is never overwritten by an earlier one.
   */
  write(body: () => T): Promise<void> {
    const dir = this.dir;
    if (dir === null) return Promise.resolve();
    const file = join(dir, this.name);
    const next = this.saving.then(async () => {
      const text = `${JSON.stringify(body(), null, 1)}\n`;
      await mkdir(dir, { recursive: true });
      const tmp = `${file}.tmp`;
      const handle = await open(tmp, 'w');
      try {
        await handle.writeFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
    });
    // A failed rewrite is reported to its caller; the next one still runs.
    this.saving = next.catch(() => {});
    return next;
  }
}

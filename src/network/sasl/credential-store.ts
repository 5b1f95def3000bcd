/**
 * The SCRAM credentials of a broker's users: `scram-credentials.json` in the data directory, holding each
 * user's salt, StoredKey, ServerKey and iterations per mechanism (never a password). Written atomically
 * (a temporary file renamed over the old one), and read again when it changes on disk, so that
 * `sluice user create --data-dir …` takes effect on a running broker. A broker without a data directory
 * (in-memory storage) keeps them in memory.
 */
import { type FSWatcher, watch as watchDir } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isScramMechanism, type ScramCredential, type ScramMechanism } from './scram.js';

export const CREDENTIALS_FILE = 'scram-credentials.json';

interface StoredCredential {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

interface CredentialsFile {
  version: 1;
  users: Record<string, Partial<Record<ScramMechanism, StoredCredential>>>;
}

export interface CredentialStoreLogger {
  warn(obj: object, msg: string): void;
}

export class CredentialStore {
  private users = new Map<string, Map<ScramMechanism, ScramCredential>>();
  private writes: Promise<unknown> = Promise.resolve();
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;

  /** `file` null: in memory only. */
  constructor(
    readonly file: string | null,
    private readonly logger?: CredentialStoreLogger,
  ) {}

  static inDataDir(dataDir: string, logger?: CredentialStoreLogger): CredentialStore {
    return new CredentialStore(join(dataDir, CREDENTIALS_FILE), logger);
  }

  async load(): Promise<void> {
    if (this.file === null) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.users = new Map();
        return;
      }
      throw err;
    }
    this.users = parseCredentials(text, this.file);
  }

  /** Reads the file again whenever it changes (another process added a user). */
  watch(): void {
    if (this.file === null || this.watcher) return;
    const name = basename(this.file);
    try {
      this.watcher = watchDir(dirname(this.file), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        // Several events come for one rename: read once they settle.
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.load().catch((err: Error) =>
            this.logger?.warn(
              { file: this.file, err: err.message },
              'cannot read the SCRAM credentials file; keeping the users read before (fix or restore the file)',
            ),
          );
        }, 50);
        this.reloadTimer.unref();
      });
      this.watcher.unref();
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, 'cannot watch the SCRAM credentials file for changes');
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.reloadTimer);
  }

  get(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  /** Every user with the mechanisms it has credentials for, ordered by name. */
  list(): Array<{ user: string; credentials: Array<{ mechanism: ScramMechanism; iterations: number }> }> {
    return [...this.users.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, byMechanism]) => ({
        user,
        credentials: [...byMechanism.entries()].map(([mechanism, c]) => ({ mechanism, iterations: c.iterations })),
      }));
  }

  /** Applies deletions then upsertions, and persists them; resolves once the file is written. */
  change(
    upsertions: Array<{ user: string; mechanism: ScramMechanism; credential: ScramCredential }>,
    deletions: Array<{ user: string; mechanism: ScramMechanism }> = [],
  ): Promise<void> {
    const run = this.writes.then(async () => {
      // Re-read first: another process may have changed the file since it was last read.
      await this.load();
      for (const { user, mechanism } of deletions) {
        const byMechanism = this.users.get(user);
        byMechanism?.delete(mechanism);
        if (byMechanism?.size === 0) this.users.delete(user);
      }
      for (const { user, mechanism, credential } of upsertions) {
        let byMechanism = this.users.get(user);
        if (!byMechanism) this.users.set(user, (byMechanism = new Map()));
        byMechanism.set(mechanism, credential);
      }
      await this.save();
    });
    this.writes = run.catch(() => undefined);
    return run;
  }

  private async save(): Promise<void> {
    if (this.file === null) return;
    const out: CredentialsFile = { version: 1, users: {} };
    for (const [user, byMechanism] of this.users) {
      const entry: Partial<Record<ScramMechanism, StoredCredential>> = {};
      for (const [mechanism, c] of byMechanism)
        entry[mechanism] = {
          salt: c.salt.toString('base64'),
          storedKey: c.storedKey.toString('base64'),
          serverKey: c.serverKey.toString('base64'),
          iterations: c.iterations,
        };
      out.users[user] = entry;
    }
    await mkdir(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(out, null, 2)}\n`, { mode: 0o600, flush: true });
    await rename(temporary, this.file);
  }
}

function parseCredentials(text: string, file: string): Map<string, Map<ScramMechanism, ScramCredential>> {
  let parsed: CredentialsFile;
  try {
    parsed = JSON.parse(text) as CredentialsFile;
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (parsed?.version !== 1 || typeof parsed.users !== 'object' || parsed.users === null)
    throw new Error(`${file} is not a Sluice SCRAM credentials file (version 1)`);
  const users = new Map<string, Map<ScramMechanism, ScramCredential>>();
  for (const [user, entry] of Object.entries(parsed.users)) {
    const byMechanism = new Map<ScramMechanism, ScramCredential>();
    for (const [mechanism, c] of Object.entries(entry ?? {})) {
      if (!isScramMechanism(mechanism) || !c) continue;
      byMechanism.set(mechanism, {
        salt: Buffer.from(c.salt, 'base64'),
        storedKey: Buffer.from(c.storedKey, 'base64'),
        serverKey: Buffer.from(c.serverKey, 'base64'),
        iterations: c.iterations,
      });
    }
    if (byMechanism.size > 0) users.set(user, byMechanism);
  }
  return users;
}

/**
 * Starts the real `sluice` command as a child process on a free port, for tests that need a separate
 * process (real clients, crashes with SIGKILL, restarts on the same data directory).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectOutput } from './child-output.js';

export const REPO_ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(REPO_ROOT, 'bin', 'sluice.js');

export interface BrokerProcess {
  port: number;
  bootstrap: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /** SIGTERM, and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, and wait for exit. */
  kill(): Promise<void>;
}

export function tempDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Stops a broker process, if one was started, and removes its data directory: the usual clean-up. */
export async function stopAndRemove(broker: BrokerProcess | undefined): Promise<void> {
  if (!broker) return;
  await broker.stop();
  removeDir(broker.dataDir);
}

export async function startBrokerProcess(
  options: {
    dataDir?: string;
    port?: number;
    overrides?: Record<string, string | number | boolean>;
    /** More `sluice start` arguments, e.g. ['--log-format', 'pretty']. */
    args?: string[];
    /** Variables added to the broker's environment. */
    env?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const args = [BIN, 'start', '--port', String(options.port ?? 0), '--data-dir', dataDir];
  for (const [k, v] of Object.entries(options.overrides ?? {})) args.push('--override', `${k}=${v}`);
  args.push(...(options.args ?? []));
  const env = options.env ? { ...process.env, ...options.env } : process.env;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = await out.waitFor(/listening on PLAINTEXT:\/\/[^:]+:(\d+)/, 'broker', options.timeoutMs ?? 15000);
  const port = Number(listening[1]);
  return {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    child,
    output: out.text,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Child processes for the bench: the broker, load generators and baselines, each with its own event loop. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is dist/bench/lib/procs.js once compiled). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST_BENCH = join(ROOT, 'dist', 'bench');
export const SLUICE_BIN = join(ROOT, 'bin', 'sluice.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls until a TCP connection to `port` is accepted (every millisecond). */
export async function waitForPort(port: number, child: ChildProcess | null, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (child && child.exitCode !== null)
      throw new Error(`process exited with code ${child.exitCode} before listening`);
    if (performance.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system, every thread) a process has used so far, in ms; /proc counts in 1/100 s. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after it are counted from its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export interface Spawned {
  child: ChildProcess;
  port: number;
  /** Spawn to first accepted connection, ms. */
  startupMs: number;
  stop(): Promise<void>;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a process that listens on `port` and times it to its first accepted connection. */
export async function spawnListening(
  args: string[],
  port: number,
  logFile: string,
  cmd = process.execPath,
): Promise<Spawned> {
  const log = openSync(logFile, 'a');
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail}`);
  }
  const startupMs = performance.now() - t0;
  return { child, port, startupMs, stop: () => stopChild(child) };
}

export interface BrokerProcessOptions {
  dataDir: string;
  logFile: string;
  /** Directory for a .cpuprofile of the broker (node --cpu-prof); none when undefined. */
  cpuProfDir?: string;
}

export async function startBrokerProcess(o: BrokerProcessOptions): Promise<Spawned> {
  const port = await freePort();
  const node = o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : [];
  return spawnListening(
    [...node, SLUICE_BIN, 'start', '--port', String(port), '--data-dir', o.dataDir, '--log-level', 'warn'],
    port,
    o.logFile,
  );
}

/** A bare Node TCP server: the floor for start-up time and memory. */
export async function startBareListener(logFile: string): Promise<Spawned> {
  const port = await freePort();
  return spawnListening([join(DIST_BENCH, 'baselines.js'), 'listen', '--port', String(port)], port, logFile);
}

/** Runs a Node script to completion and parses the JSON object on the last line of its stdout. */
export function runJson<T>(script: string, args: string[], timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0) {
        reject(
          new Error(
            `${script} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${stderr.trim() || stdout.trim()}`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON summary:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** A long-running helper that prints one JSON line when ready and runs until stopped. */
export function startJsonServer<T>(
  script: string,
  args: string[],
): Promise<{ info: T; child: ChildProcess; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let stdout = '';
    const onData = (d: Buffer) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      child.stdout!.off('data', onData);
      resolve({ info: JSON.parse(stdout.slice(0, nl)) as T, child, stop: () => stopChild(child) });
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
  });
}

/** Timed run of an outside command (kcat); stdout is counted in lines, not kept. */
export function timeCommand(
  cmd: string,
  args: string[],
  options: { stdinFile?: string; timeoutMs?: number } = {},
): Promise<{ seconds: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const stdin = options.stdinFile ? openSync(options.stdinFile, 'r') : 'ignore';
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    });
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      if (code !== 0)
        reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
      else resolve({ seconds, lines });
    });
  });
}

/** Whether a command is on the PATH. */
export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

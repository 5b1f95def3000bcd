/** Runs the real third-party clients used by the interop tests: kcat and Debian's Python Kafka modules. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './broker-process.js';

/** Debian's interpreter, which has confluent_kafka and kafka; the first python3 on PATH may not. */
export const PYTHON = process.env.INTEROP_PYTHON ?? '/usr/bin/python3';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export function kcat(bootstrap: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}) {
  return run('kcat', ['-b', bootstrap, ...args], opts);
}

/** Runs a Python snippet with Debian's python3; `BOOTSTRAP` is set in its environment and as a global. */
export async function python(bootstrap: string, code: string, timeoutMs = 60_000): Promise<RunResult> {
  const prelude = `import os, sys, json\nBOOTSTRAP = ${JSON.stringify(bootstrap)}\n`;
  return run(PYTHON, ['-c', prelude + code], { timeoutMs });
}

/** Parses the last line of stdout as JSON (the snippets print their findings that way). */
export function lastJson<T = unknown>(r: RunResult): T {
  const lines = r.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]) as T;
  } catch {
    throw new Error(`no JSON on the last stdout line (exit ${r.code}):\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** Parses each stdout line as JSON (a command's `--format json` lines); a blank line among them throws. */
export function jsonLines<T = unknown>(r: RunResult): T[] {
  const text = r.stdout.trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as T);
}

/**
 * The venv with today's Python clients from PyPI (test/clients/python/requirements.txt), made by
 * test/clients/install.sh under a name keyed by the requirements' hash; null when it is not installed.
 */
export function pypiClientsPython(): string | null {
  const requirements = readFileSync(join(REPO_ROOT, 'test', 'clients', 'python', 'requirements.txt'));
  const hash = createHash('sha256').update(requirements).digest('hex').slice(0, 12);
  const cache = process.env.SLUICE_CLIENTS_CACHE ?? join(homedir(), '.cache', 'sluice');
  const venv = join(cache, `py-clients-${hash}`);
  return existsSync(join(venv, '.complete')) ? join(venv, 'bin', 'python') : null;
}

/**
 * For a test that needs a client installed by test/clients/install.sh: true when the test was skipped.
 * Under CI (where .ci/run installs the clients) a missing client fails instead of skipping.
 */
export function clientOrSkip(t: { skip(message?: string): void }, missing: string | null): boolean {
  if (missing === null) return false;
  if (process.env.CI === 'true') throw new Error(`required under CI: ${missing}`);
  t.skip(missing);
  return true;
}

/** The franz-go scenario binary built by test/clients/install.sh from test/clients/go; null when not built. */
export function franzScenarioBinary(): string | null {
  const dir = join(REPO_ROOT, 'test', 'clients', 'go');
  const hash = createHash('sha256');
  for (const name of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(dir, name)));
  const cache = process.env.SLUICE_CLIENTS_CACHE ?? join(homedir(), '.cache', 'sluice');
  const bin = join(cache, `franz-scenario-${hash.digest('hex').slice(0, 12)}`);
  return existsSync(bin) ? bin : null;
}

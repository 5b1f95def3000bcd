/**
 * The log dir lock: held by one broker at a time, refused while its holder lives, taken over once its
 * holder is gone (a dead pid, a pid now used by another process, a reboot), and never by two at once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createLogDir, LogDirError, LogDirInUseError, lockLogDir } from '../../../src/storage/log-dir-lock.js';
import { removeDir, tempDir } from '../../helpers/broker-process.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) removeDir(d);
});

function dir(): string {
  const d = tempDir('sluice-lock-');
  dirs.push(d);
  return d;
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function writeLock(d: string, fields: { pid: number; startTime?: string; bootId?: string; host?: string }): void {
  const text =
    `pid=${fields.pid}\nstart.time=${fields.startTime ?? ''}\nboot.id=${fields.bootId ?? bootId()}\n` +
    `host=${fields.host ?? hostname()}\nnonce=left-behind\n`;
  writeFileSync(join(d, '.lock'), text);
}

/** A live process that is not a broker. */
async function sleeper(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await once(child, 'spawn');
  return child;
}

test('a held lock refuses a second holder until it is released, and release removes the file', async () => {
  const d = dir();
  const lock = await lockLogDir(d);
  assert.match(readFileSync(join(d, '.lock'), 'utf8'), new RegExp(`^pid=${process.pid}$`, 'm'));
  await assert.rejects(lockLogDir(d), (err: Error) => {
    assert.ok(err instanceof LogDirInUseError);
    assert.match(
      err.message,
      new RegExp(`^data dir ${d} is in use by another broker \\(pid ${process.pid}, in this process\\)$`),
    );
    return true;
  });
  await lock.release();
  assert.equal(existsSync(join(d, '.lock')), false);
  await (await lockLogDir(d)).release();
});

test('a lock whose holder runs is refused, naming its pid', async (t) => {
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  const d = dir();
  writeLock(d, { pid: child.pid!, startTime: startTimeOf(child.pid!) });
  await assert.rejects(lockLogDir(d), new RegExp(`is in use by another broker \\(pid ${child.pid}\\)`));
  assert.match(readFileSync(join(d, '.lock'), 'utf8'), /nonce=left-behind/);
});

test('a lock whose pid now belongs to another process (another start time) is stale', async (t) => {
  const child = await sleeper();
  t.after(() => child.kill('SIGKILL'));
  const d = dir();
  writeLock(d, { pid: child.pid!, startTime: String(Number(startTimeOf(child.pid!)) - 1) });
  const lock = await lockLogDir(d);
  assert.match(readFileSync(join(d, '.lock'), 'utf8'), new RegExp(`^pid=${process.pid}$`, 'm'));
  await lock.release();
});

test('a lock whose process is gone, or from before a reboot, is stale', async () => {
  const child = await sleeper();
  child.kill('SIGKILL');
  await once(child, 'exit');
  const gone = dir();
  writeLock(gone, { pid: child.pid! });
  await (await lockLogDir(gone)).release();

  const rebooted = dir();
  writeLock(rebooted, { pid: 1, startTime: startTimeOf(1), bootId: '00000000-0000-0000-0000-000000000000' });
  await (await lockLogDir(rebooted)).release();

  // This process's pid, but not one of its locks: left by an earlier run with the same pid (a container).
  const samePid = dir();
  writeLock(samePid, { pid: process.pid, startTime: startTimeOf(process.pid) });
  await (await lockLogDir(samePid)).release();
});

test('a lock held on another host is kept, and the error says how to remove it', async () => {
  const d = dir();
  writeLock(d, { pid: 4242, host: 'elsewhere' });
  await assert.rejects(
    lockLogDir(d),
    /\(pid 4242 on host elsewhere; if no broker runs there on this directory, remove its \.lock file\)/,
  );
});

test('of many brokers taking one stale lock at once, exactly one gets it', async () => {
  const d = dir();
  const child = await sleeper();
  child.kill('SIGKILL');
  await once(child, 'exit');
  writeLock(d, { pid: child.pid! });
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => lockLogDir(d)));
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))));
  for (const r of results)
    if (r.status === 'rejected') assert.ok(r.reason instanceof LogDirInUseError, String(r.reason));
  await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockLogDir>>>).value.release();
  assert.equal(existsSync(join(d, '.lock.takeover')), false);
});

test('a data dir that cannot be created (under /proc) fails with a clear error instead of looping', async () => {
  const started = Date.now();
  await assert.rejects(createLogDir('/proc/sluice-no-such/data'), (err: Error) => {
    assert.ok(err instanceof LogDirError);
    assert.match(
      err.message,
      /^cannot create data dir \/proc\/sluice-no-such\/data: \/proc\/sluice-no-such cannot be created/,
    );
    return true;
  });
  assert.ok(Date.now() - started < 5_000);
  const nested = join(dir(), 'a', 'b', 'c');
  await createLogDir(nested);
  await createLogDir(nested);
  assert.equal(existsSync(nested), true);
});

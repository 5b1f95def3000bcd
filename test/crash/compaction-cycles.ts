/**
 * Crash cycles against a compacted topic: writers produce keyed records with acks=all while the log cleaner
 * runs constantly (tiny segments, min.cleanable.dirty.ratio 0.01, log.cleaner.backoff.ms 50), and the broker
 * is SIGKILLed at random moments, some of them the instant a `.cleaned` or `.swap` file appears in a
 * partition directory (a cleaning in progress, or a swap committed but not finished). Kafka's protocol must
 * make such a kill lose nothing: recovery drops `.cleaned` files and completes `.swap` ones.
 *
 * What a cycle checks after the restart, per partition, reading the whole log from its start:
 * - offsets strictly increase and stay below the high watermark;
 * - every record's key is one of the key space and its value the one sent for that key and sequence;
 * - no record carries a sequence higher than any ever sent for its key;
 * - for every key, the last record in the log is at or after the last acknowledged record of that key,
 *   and is that very record when their offsets are equal (the latest acknowledged value is never lost);
 * - what a previous check found as a key's latest record is never replaced by an older one;
 * - once the broker is up, no `.cleaned` or `.swap` file of an earlier broker is left (recovery dropped the
 *   first and completed the second; a `.log.swap` the kill left must show in the log as a completed swap).
 * The new broker's own cleaner may already be cleaning then, so files it wrote are told apart by their mtime.
 * Over the run the log must shrink: fewer records in it than were ever appended (compaction happened).
 *
 * Each key is written by one lane only, one request at a time, so a key's sequence grows with its offsets.
 */
import { spawn } from 'node:child_process';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/records/index.js';
import { type BrokerProcess, REPO_ROOT, startBrokerProcess } from '../helpers/broker-process.js';
import { ConnectionLost, WireClient } from './wire-client.js';

export const COMPACTED_TOPIC = 'compacted';

export interface CompactionCycleOptions {
  dataDir: string;
  cycles: number;
  partitions?: number;
  /** Keys per partition (the bounded key space). */
  keys?: number;
  /** Writer connections; each runs `inFlight` lanes, and each lane owns its share of the keys. */
  writers?: number;
  inFlight?: number;
  /** The broker is killed this many ms after producing starts: uniform in [min, max]. */
  killAfterMs?: [number, number];
  /**
   * Share of cycles whose kill, after the random delay, waits (up to `watchMs`) for a `.cleaned` or `.swap`
   * file to appear in a partition directory and kills the broker the moment one does.
   */
  killOnCleaning?: number;
  watchMs?: number;
  /** Every Nth cycle also kills a broker during its start-up (recovery, which may be completing a swap). */
  killDuringStartEvery?: number;
  segmentBytes?: number;
  log?: (line: string) => void;
}

export interface CompactionCycleReport {
  cycles: number;
  /** Keys whose latest acknowledged record was checked present (summed over checks). */
  keysVerified: number;
  acknowledged: number;
  /** Kills after which a `.cleaned` or `.swap` file was on disk. */
  killsDuringCleaning: number;
  /** Kills after which a `.cleaned` file was on disk, and those after which a `.log.swap` was (a committed swap). */
  killsWithCleaned: number;
  killsWithSwap: number;
  /** Kills that the watch of the partition directories triggered. */
  watchKills: number;
  startupKills: number;
  lost: number;
  /** Records ever appended (the log end offsets at the end) and records left in the log. */
  appended: number;
  recordsInLog: number;
  /** The fewest records the log held at any check after the first cleaning, and the most. */
  minRecordsInLog: number;
  maxRecordsInLog: number;
}

export class CompactionCycleFailure extends Error {
  override name = 'CompactionCycleFailure';
}

/** The value says which key and sequence it is; padded so that segments fill fast. */
function encodeValue(key: number, seq: number): string {
  return `k${key}:${seq}:`.padEnd(96, 'x');
}

function keyName(key: number): string {
  return `key-${key}`;
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

interface KeyState {
  /** Highest sequence ever sent (acknowledged or not). */
  sent: number;
  /** The last acknowledged record: its sequence and offset (-1 if none). */
  ackedSeq: number;
  ackedOffset: bigint;
  /** The key's last record found in the log at the last check. */
  seenSeq: number;
  seenOffset: bigint;
}

/**
 * Names of cleaner files in the partition directories: `.cleaned` and `.swap` files; with `olderThanMs`
 * only those last modified before then (files of an earlier broker, not of a cleaning running now).
 */
async function cleanerFiles(
  dataDir: string,
  partitions: number,
  olderThanMs?: number,
): Promise<{ cleaned: string[]; swap: string[] }> {
  const cleaned: string[] = [];
  const swap: string[] = [];
  for (let p = 0; p < partitions; p++) {
    const dir = join(dataDir, `${COMPACTED_TOPIC}-${p}`);
    for (const f of await readdir(dir)) {
      if (!f.endsWith('.cleaned') && !f.endsWith('.swap')) continue;
      if (olderThanMs !== undefined) {
        const mtimeMs = await stat(join(dir, f)).then(
          (st) => st.mtimeMs,
          () => Number.POSITIVE_INFINITY, // gone meanwhile: the running cleaner moved it on
        );
        if (mtimeMs >= olderThanMs) continue;
      }
      (f.endsWith('.cleaned') ? cleaned : swap).push(`${COMPACTED_TOPIC}-${p}/${f}`);
    }
  }
  return { cleaned, swap };
}

export async function runCompactionCycles(opts: CompactionCycleOptions): Promise<CompactionCycleReport> {
  const partitions = opts.partitions ?? 2;
  const keys = opts.keys ?? 200;
  const writers = opts.writers ?? 2;
  const inFlight = opts.inFlight ?? 4;
  const lanes = writers * inFlight;
  const [killMin, killMax] = opts.killAfterMs ?? [100, 600];
  const killOnCleaning = opts.killOnCleaning ?? 0.5;
  const watchMs = opts.watchMs ?? 2000;
  const segmentBytes = opts.segmentBytes ?? 65536;
  const log = opts.log ?? (() => {});
  const overrides = { 'log.cleaner.backoff.ms': 50 };
  const report: CompactionCycleReport = {
    cycles: 0,
    keysVerified: 0,
    acknowledged: 0,
    killsDuringCleaning: 0,
    killsWithCleaned: 0,
    killsWithSwap: 0,
    watchKills: 0,
    startupKills: 0,
    lost: 0,
    appended: 0,
    recordsInLog: 0,
    minRecordsInLog: Number.POSITIVE_INFINITY,
    maxRecordsInLog: 0,
  };
  const state: KeyState[][] = Array.from({ length: partitions }, () =>
    Array.from({ length: keys }, () => ({ sent: -1, ackedSeq: -1, ackedOffset: -1n, seenSeq: -1, seenOffset: -1n })),
  );

  /** Reads every partition from offset 0 and checks it against what was sent and acknowledged. */
  const check = async (client: WireClient, where: string): Promise<{ records: number; end: number }> => {
    let total = 0;
    let end = 0;
    for (let p = 0; p < partitions; p++) {
      const at = `${where}, ${COMPACTED_TOPIC}-${p}`;
      const hwm = await client.listOffset(COMPACTED_TOPIC, p, -1n);
      // Compaction never moves the log start (Kafka's neither): a later start means the first records are gone.
      const logStart = await client.listOffset(COMPACTED_TOPIC, p, -2n);
      if (logStart !== 0n) {
        report.lost++;
        throw new CompactionCycleFailure(`${at}: the log starts at ${logStart}, not 0: the records below it are lost`);
      }
      const records = await client.readAll(COMPACTED_TOPIC, p, 0n);
      total += records.length;
      end += Number(hwm);
      const last = new Map<number, { seq: number; offset: bigint }>();
      let previous = -1n;
      for (const r of records) {
        if (r.offset <= previous) {
          throw new CompactionCycleFailure(`${at}: offset ${r.offset} follows ${previous}`);
        }
        if (r.offset >= hwm)
          throw new CompactionCycleFailure(`${at}: offset ${r.offset} at or past the high watermark ${hwm}`);
        previous = r.offset;
        const value = r.value?.toString('utf8') ?? '<null>';
        const m = /^k(\d+):(\d+):/.exec(value);
        if (!m) throw new CompactionCycleFailure(`${at}: offset ${r.offset} holds ${value}`);
        const key = Number(m[1]);
        const seq = Number(m[2]);
        if (key >= keys || r.key?.toString('utf8') !== keyName(key) || value !== encodeValue(key, seq)) {
          throw new CompactionCycleFailure(`${at}: offset ${r.offset} has key ${r.key?.toString('utf8')} for ${value}`);
        }
        const s = state[p]![key]!;
        if (seq > s.sent) {
          throw new CompactionCycleFailure(
            `${at}: offset ${r.offset} holds sequence ${seq} of key ${key}, sent only up to ${s.sent}`,
          );
        }
        const before = last.get(key);
        if (before && seq <= before.seq) {
          throw new CompactionCycleFailure(
            `${at}: key ${key} sequence ${seq} at ${r.offset} after ${before.seq} at ${before.offset}`,
          );
        }
        last.set(key, { seq, offset: r.offset });
      }
      for (let key = 0; key < keys; key++) {
        const s = state[p]![key]!;
        const found = last.get(key);
        if (s.ackedSeq < 0 && s.seenSeq < 0) continue;
        if (!found) {
          report.lost++;
          throw new CompactionCycleFailure(
            `${at}: key ${key} is gone; sequence ${s.ackedSeq} was acknowledged at ${s.ackedOffset}, ${s.seenSeq} seen at ${s.seenOffset}`,
          );
        }
        if (found.offset < s.ackedOffset || found.seq < s.ackedSeq) {
          report.lost++;
          throw new CompactionCycleFailure(
            `${at}: key ${key} ends with sequence ${found.seq} at ${found.offset}, but ${s.ackedSeq} was acknowledged at ${s.ackedOffset}`,
          );
        }
        if (found.offset === s.ackedOffset && found.seq !== s.ackedSeq) {
          throw new CompactionCycleFailure(
            `${at}: key ${key} has sequence ${found.seq} at ${found.offset}, acknowledged as ${s.ackedSeq}`,
          );
        }
        if (found.offset < s.seenOffset || found.seq < s.seenSeq) {
          report.lost++;
          throw new CompactionCycleFailure(
            `${at}: key ${key} ends with sequence ${found.seq} at ${found.offset}, an earlier check found ${s.seenSeq} at ${s.seenOffset}`,
          );
        }
        if (s.ackedSeq >= 0) report.keysVerified++;
        s.seenSeq = found.seq;
        s.seenOffset = found.offset;
      }
    }
    return { records: total, end };
  };

  /** One lane sends batches of its own keys, one request at a time, until the connection dies. */
  const lane = async (client: WireClient, laneIndex: number): Promise<number> => {
    const owned = Array.from({ length: keys }, (_, k) => k).filter((k) => k % lanes === laneIndex);
    let errors = 0;
    for (;;) {
      const sent: Array<{ partition: number; entries: Array<{ key: number; seq: number }> }> = [];
      for (let p = 0; p < partitions; p++) {
        if (Math.random() < 0.25) continue;
        const n = randomInt(1, 12);
        const entries: Array<{ key: number; seq: number }> = [];
        for (let i = 0; i < n; i++) {
          const key = owned[randomInt(0, owned.length - 1)]!;
          entries.push({ key, seq: ++state[p]![key]!.sent });
        }
        sent.push({ partition: p, entries });
      }
      if (sent.length === 0) continue;
      const answers = await client.produce(
        COMPACTED_TOPIC,
        sent.map((s) => ({
          partition: s.partition,
          batch: buildRecordBatch(s.entries.map((e) => ({ key: keyName(e.key), value: encodeValue(e.key, e.seq) }))),
        })),
      );
      for (const a of answers) {
        if (a.errorCode !== ErrorCode.NONE) {
          errors++;
          continue;
        }
        const s = sent.find((x) => x.partition === a.partition)!;
        s.entries.forEach((e, i) => {
          const k = state[a.partition]![e.key]!;
          // Sequences of one key grow with their offsets, since one lane alone writes it, in order.
          k.ackedSeq = e.seq;
          k.ackedOffset = a.baseOffset + BigInt(i);
          report.acknowledged++;
        });
      }
      if (errors > 0) return errors;
    }
  };

  const writer = async (port: number, w: number): Promise<Error | null> => {
    let client: WireClient;
    try {
      client = await WireClient.connect(port);
    } catch {
      return null; // killed before this writer connected
    }
    try {
      const errors = (
        await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(client, w * inFlight + i)))
      ).reduce((a, b) => a + b, 0);
      return errors > 0 ? new CompactionCycleFailure(`${errors} produce answers carried an error`) : null;
    } catch (err) {
      return err instanceof ConnectionLost ? null : (err as Error);
    } finally {
      client.close();
    }
  };

  /**
   * Kills the broker the moment a file with the suffix appears (`.cleaned`: a cleaning is writing its segment;
   * `.swap`: a swap is being committed or finished), or after `maxMs`; true if one did.
   */
  const killOnCleanerFile = async (broker: BrokerProcess, suffix: RegExp, maxMs: number): Promise<boolean> => {
    const watchers: FSWatcher[] = [];
    let fired = false;
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, maxMs);
      for (let p = 0; p < partitions; p++) {
        watchers.push(
          watch(join(opts.dataDir, `${COMPACTED_TOPIC}-${p}`), (_event, name) => {
            if (fired || !name || !suffix.test(name)) return;
            fired = true;
            // Killed from the watch callback itself, so the cleaner gets as little time as possible to move on.
            broker.child.kill('SIGKILL');
            clearTimeout(timer);
            resolve();
          }),
        );
      }
    });
    await done;
    for (const w of watchers) w.close();
    return fired;
  };

  const start = (): Promise<BrokerProcess> =>
    startBrokerProcess({ dataDir: opts.dataDir, overrides, timeoutMs: 60_000 });

  const killDuringStart = async (): Promise<void> => {
    const args = [join(REPO_ROOT, 'bin', 'sluice.js'), 'start', '--port', '0', '--data-dir', opts.dataDir];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await sleep(randomInt(60, 250));
    child.kill('SIGKILL');
    await exited;
    report.startupKills++;
  };

  /**
   * A started broker holds no `.cleaned` file, and no `.swap` file (recovery completed the swaps), of the
   * brokers before it: its own cleaner, running from the start, may be in the middle of a cleaning, so only
   * files last modified before it started count.
   */
  const checkNoLeftovers = async (where: string, startedAt: number): Promise<void> => {
    const { cleaned, swap } = await cleanerFiles(opts.dataDir, partitions, startedAt);
    if (cleaned.length > 0)
      throw new CompactionCycleFailure(`${where}: .cleaned files left after recovery: ${cleaned.join(', ')}`);
    if (swap.length > 0)
      throw new CompactionCycleFailure(`${where}: .swap files while the broker is up: ${swap.join(', ')}`);
  };

  let broker = await start();
  try {
    let client = await WireClient.connect(broker.port);
    const created = await client.createTopic(COMPACTED_TOPIC, partitions, {
      'cleanup.policy': 'compact',
      'segment.bytes': String(segmentBytes),
      'min.cleanable.dirty.ratio': '0.01',
      'min.compaction.lag.ms': '0',
    });
    if (created !== ErrorCode.NONE) {
      throw new CompactionCycleFailure(`could not create ${COMPACTED_TOPIC}: ${ErrorCode[created]}`);
    }
    client.close();

    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      const killAfter = randomInt(killMin, killMax);
      const running = Array.from({ length: writers }, (_, w) => writer(broker.port, w));
      await sleep(killAfter);
      // Half the watched kills wait for a `.log.swap` file: the swap is committed and recovery must complete it.
      const suffix = Math.random() < 0.5 ? /\.cleaned$/ : /\.log\.swap$/;
      const watched = Math.random() < killOnCleaning && (await killOnCleanerFile(broker, suffix, watchMs));
      await broker.kill();
      if (watched) report.watchKills++;
      const failure = (await Promise.all(running)).find((f) => f !== null);
      if (failure) throw new CompactionCycleFailure(`cycle ${cycle}: ${failure.message}`);
      // What the kill left on disk tells whether it came during a cleaning.
      const left = await cleanerFiles(opts.dataDir, partitions);
      if (left.cleaned.length > 0) report.killsWithCleaned++;
      if (left.swap.some((f) => f.endsWith('.log.swap'))) report.killsWithSwap++;
      if (left.cleaned.length + left.swap.length > 0) report.killsDuringCleaning++;

      const killedDuringStart = !!opts.killDuringStartEvery && cycle % opts.killDuringStartEvery === 0;
      if (killedDuringStart) await killDuringStart();
      const startedAt = Date.now();
      broker = await start();
      const where = `cycle ${cycle}`;
      let found: { records: number; end: number };
      try {
        await checkNoLeftovers(where, startedAt);
        const committed = left.swap.filter((f) => f.endsWith('.log.swap'));
        // A start killed during recovery may have completed the swap already.
        if (
          committed.length > 0 &&
          !killedDuringStart &&
          !/completed the swap of a cleaned segment/.test(broker.output())
        ) {
          throw new CompactionCycleFailure(
            `${where}: recovery did not report completing the swap of ${committed.join(', ')}`,
          );
        }
        client = await WireClient.connect(broker.port);
        found = await check(client, where);
        client.close();
      } catch (err) {
        throw new CompactionCycleFailure(
          `${(err as Error).message}\nkilled after ${killAfter} ms${watched ? ' and a cleaner file' : ''}, on disk then: ${[...left.cleaned, ...left.swap].join(', ') || 'no cleaner files'}; broker output:\n${broker.output().slice(-3000)}`,
        );
      }
      if (found.records < found.end) report.minRecordsInLog = Math.min(report.minRecordsInLog, found.records);
      report.maxRecordsInLog = Math.max(report.maxRecordsInLog, found.records);
      report.cycles = cycle;
      log(
        `${where}: killed after ${killAfter} ms${watched ? ' on a cleaner file' : ''}` +
          `${left.cleaned.length + left.swap.length > 0 ? ` (left ${[...left.cleaned, ...left.swap].join(', ')})` : ''}, ` +
          `${found.records} records in the log of ${found.end} appended`,
      );
    }

    // A clean stop and start: the log is the same and still holds every key's latest record.
    const code = await broker.stop();
    if (code !== 0) throw new CompactionCycleFailure(`the broker exited with ${code} on SIGTERM`);
    const startedAt = Date.now();
    broker = await start();
    await checkNoLeftovers('after the clean restart', startedAt);
    client = await WireClient.connect(broker.port);
    const found = await check(client, 'after the clean restart');
    client.close();
    report.appended = found.end;
    report.recordsInLog = found.records;
    if (report.minRecordsInLog === Number.POSITIVE_INFINITY) report.minRecordsInLog = found.records;
    return report;
  } finally {
    if (broker.child.exitCode === null && broker.child.signalCode === null) await broker.stop();
  }
}

/**
 * Crash cycles against a real broker process: writers produce with acks=all to several partitions, the
 * broker is SIGKILLed at a random moment, restarted on the same data dir, and the log is checked against
 * what was acknowledged. Shared by the crash test (20+ cycles) and `crash-loop.ts` (long runs).
 *
 * What a cycle checks after the restart, per partition:
 * - offsets are contiguous from 0 and end at the high watermark;
 * - every acknowledged record is at the offset its produce response gave, with its key and value;
 * - everything seen at an earlier check is still there, unchanged (no history is rewritten);
 * - every other record is one of the last cycle's unacknowledged sends, and no value appears twice;
 * - each writer's records appear in the order they were sent;
 * - a new acks=all produce lands at the high watermark found after recovery.
 * - records of idempotent producers continue their producer's sequence, a retried batch the log already
 *   held is answered with its offset there, and InitProducerId never gives an id twice (idempotent-writer.ts).
 * Some cycles also kill the broker while it is still recovering, before it listens, and some right after a
 * write reached a segment file (before it is durable and answered, usually).
 *
 * Idempotent writers (`idempotentWriters`) resend what a kill left unanswered after the restart, as a real
 * idempotent producer does; plain writers do not, so their unanswered sends may or may not be in the log.
 *
 * With `groups` (the default) a consumer group member reads every partition and commits while the writers
 * produce; after each restart its committed offsets and a rejoin are checked too (see group-ledger.ts).
 */
import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/records/index.js';
import { type BrokerProcess, REPO_ROOT, startBrokerProcess } from '../helpers/broker-process.js';
import { GroupLedger, type GroupReport } from './group-ledger.js';
import { FIRST_IDEMPOTENT_WRITER, IdempotentWriter, ProducerLedger, type ProducerReport } from './idempotent-writer.js';
import { ConnectionLost, WireClient } from './wire-client.js';

export interface CrashCycleOptions {
  dataDir: string;
  cycles: number;
  partitions?: number;
  /** Plain writers (no producer id): a send unanswered at a kill is not sent again. */
  writers?: number;
  /** Idempotent producers, which resend their unanswered batches after each restart (idempotent-writer.ts). */
  idempotentWriters?: number;
  /** Produce requests each writer keeps in flight. */
  inFlight?: number;
  /** The broker is killed this many ms after producing starts: uniform in [min, max]. */
  killAfterMs?: [number, number];
  /**
   * Share of cycles whose kill waits, after the random delay, for the next write to grow a segment file and
   * follows it at once: usually before the write is durable and answered (default 0.5).
   */
  killOnWrite?: number;
  /** Every Nth cycle also kills a broker during its start-up (recovery); 0 never. */
  killDuringStartEvery?: number;
  /** Read each partition from offset 0 every Nth cycle; otherwise from `tailWindow` before the last check's log end. */
  fullCheckEvery?: number;
  tailWindow?: number;
  /** Broker overrides (e.g. a small log.segment.bytes so segments roll during the run). */
  overrides?: Record<string, string | number | boolean>;
  /** A consumer group member consumes and commits during the produce windows, checked after each restart. Default true. */
  groups?: boolean;
  log?: (line: string) => void;
}

export interface CrashCycleReport {
  cycles: number;
  /** Acknowledged records checked after the crash that followed them. */
  acknowledgedVerified: number;
  /** Records that were sent but not acknowledged before the kill and turned out to be in the log. */
  unacknowledgedKept: number;
  /** Cycles whose recovery cut a torn tail (bytes written but not acknowledged). */
  tornTails: number;
  startupKills: number;
  lost: number;
  totalRecords: number;
  /** Records found twice in the log or acknowledged at two offsets (any is a failure). */
  duplicated: number;
  /** Cycles killed right after a segment file grew. */
  writeKills: number;
  /** Present when the cycles ran with a consumer group. */
  group?: GroupReport;
  /** Present when the cycles ran with idempotent writers. */
  producers?: ProducerReport;
}

export const TOPIC = 'crash';

interface Sent {
  writer: number;
  cycle: number;
  seq: number;
}

/** A value says who sent it: `<cycle>:<writer>:<partition>:<seq>` padded with filler. */
function encodeValue(s: Sent, partition: number): string {
  return `${s.cycle}:${s.writer}:${partition}:${s.seq}:`.padEnd(48, 'x');
}

function parseValue(v: string): Sent & { partition: number } {
  const [cycle, writer, partition, seq] = v.split(':').map(Number);
  return { cycle: cycle!, writer: writer!, partition: partition!, seq: seq! };
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export class CrashCycleFailure extends Error {
  override name = 'CrashCycleFailure';
}

export async function runCrashCycles(opts: CrashCycleOptions): Promise<CrashCycleReport> {
  const partitions = opts.partitions ?? 4;
  const writers = opts.writers ?? 2;
  const idempotentWriters = opts.idempotentWriters ?? 0;
  const inFlight = opts.inFlight ?? 4;
  const killOnWrite = opts.killOnWrite ?? 0.5;
  const [killMin, killMax] = opts.killAfterMs ?? [50, 400];
  const fullCheckEvery = opts.fullCheckEvery ?? 1;
  const tailWindow = opts.tailWindow ?? 2000;
  const log = opts.log ?? (() => {});
  const groups = opts.groups ?? true;
  // The group's first join need not wait for more members (Kafka's default waits 3 s).
  const overrides = groups ? { 'group.initial.rebalance.delay.ms': 0, ...opts.overrides } : opts.overrides;
  const report: CrashCycleReport = {
    cycles: 0,
    acknowledgedVerified: 0,
    unacknowledgedKept: 0,
    tornTails: 0,
    startupKills: 0,
    lost: 0,
    totalRecords: 0,
    duplicated: 0,
    writeKills: 0,
  };

  // What each partition must hold: value by offset; undefined where a send was not acknowledged.
  const model: Array<Array<string | undefined>> = Array.from({ length: partitions }, () => []);
  // Sends of the last cycle that got no answer: they may or may not be in the log, at most once.
  let unknown = new Set<string>();
  let ackedLastCycle = 0;
  const group = groups ? new GroupLedger(TOPIC, partitions, model) : null;
  // Also knows, per partition, the log end the last check found (the model is complete below it).
  const producers = new ProducerLedger(partitions, model);
  const idempotent = Array.from(
    { length: idempotentWriters },
    (_, i) =>
      new IdempotentWriter({
        writer: FIRST_IDEMPOTENT_WRITER + i,
        topic: TOPIC,
        partitions,
        inFlight,
        ledger: producers,
        onAcknowledged: (n) => (ackedLastCycle += n),
      }),
  );

  const check = async (client: WireClient, cycle: number, full: boolean): Promise<void> => {
    for (let p = 0; p < partitions; p++) {
      const known = model[p]!;
      // At least everything after the last check's log end is read: its records are checked one by one.
      const checkedEnd = producers.checkedEnd[p]!;
      const from = full ? 0 : Math.max(0, checkedEnd - tailWindow);
      const records = await client.readAll(TOPIC, p, BigInt(from));
      const where = `cycle ${cycle}, ${TOPIC}-${p}`;
      const hwm = await client.listOffset(TOPIC, p, -1n);
      if (hwm !== BigInt(from + records.length)) {
        throw new CrashCycleFailure(`${where}: read ${records.length} records from ${from}, high watermark ${hwm}`);
      }
      if (from + records.length < known.length) {
        const missing = known.slice(from + records.length).filter((v) => v !== undefined).length;
        report.lost += missing;
        throw new CrashCycleFailure(
          `${where}: log ends at ${from + records.length} but acknowledged records go up to ${known.length - 1} (${missing} lost)`,
        );
      }
      const seen = new Set<string>();
      const lastSeq = new Map<string, number>();
      const next: string[] = known.slice(0, from) as string[];
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const offset = from + i;
        if (r.offset !== BigInt(offset)) {
          throw new CrashCycleFailure(`${where}: record ${i} read has offset ${r.offset}, expected ${offset}`);
        }
        const value = r.value?.toString('utf8') ?? '<null>';
        const expected = known[offset];
        if (expected !== undefined && value !== expected) {
          report.lost++;
          throw new CrashCycleFailure(`${where}: offset ${offset} holds ${value}, acknowledged as ${expected}`);
        }
        if (expected === undefined) {
          if (!unknown.has(value) && !producers.keep(value, offset)) {
            throw new CrashCycleFailure(`${where}: offset ${offset} holds ${value}, which was never sent unanswered`);
          }
          report.unacknowledgedKept++;
        }
        if (seen.has(value)) {
          report.duplicated++;
          throw new CrashCycleFailure(`${where}: ${value} appears twice (again at ${offset})`);
        }
        seen.add(value);
        const sent = parseValue(value);
        if (offset >= checkedEnd) producers.checkNewRecord(p, r, value, sent.writer, where);
        if (sent.partition !== p)
          throw new CrashCycleFailure(`${where}: offset ${offset} holds ${value} of another partition`);
        if (r.key?.toString('utf8') !== `w${sent.writer}-p${p}`) {
          throw new CrashCycleFailure(`${where}: offset ${offset} has key ${r.key?.toString('utf8')} for ${value}`);
        }
        const stream = `${sent.cycle}:${sent.writer}`;
        const previous = lastSeq.get(stream);
        if (previous !== undefined && sent.seq <= previous) {
          throw new CrashCycleFailure(`${where}: ${value} at ${offset} comes after seq ${previous} of the same writer`);
        }
        lastSeq.set(stream, sent.seq);
        next.push(value);
      }
      model[p] = next;
      producers.checked(p, next.length);
    }
    report.acknowledgedVerified += ackedLastCycle;
    ackedLastCycle = 0;
    unknown = new Set();
  };

  /** Appends one acks=all marker batch per partition and checks it lands at the recovered log end. */
  const produceMarkers = async (client: WireClient, cycle: number): Promise<void> => {
    const batches = model.map((_, p) => ({
      partition: p,
      batch: buildRecordBatch([{ key: `w9-p${p}`, value: encodeValue({ cycle, writer: 9, seq: 0 }, p) }]),
    }));
    const answers = await client.produce(TOPIC, batches);
    for (const a of answers) {
      if (a.errorCode !== ErrorCode.NONE) {
        throw new CrashCycleFailure(
          `cycle ${cycle}: marker produce to partition ${a.partition}: ${ErrorCode[a.errorCode]}`,
        );
      }
      const expected = model[a.partition]!.length;
      if (a.baseOffset !== BigInt(expected)) {
        throw new CrashCycleFailure(
          `cycle ${cycle}: a new produce to partition ${a.partition} got offset ${a.baseOffset}, expected ${expected}`,
        );
      }
      model[a.partition]!.push(encodeValue({ cycle, writer: 9, seq: 0 }, a.partition));
    }
  };

  /** Produces until the connection dies; records acknowledged offsets in the model. */
  const writer = async (port: number, cycle: number, w: number): Promise<{ errors: number }> => {
    let client: WireClient;
    try {
      client = await WireClient.connect(port);
    } catch {
      return { errors: 0 }; // killed before this writer connected
    }
    let seq = 0;
    let errors = 0;
    const sendOne = async (): Promise<void> => {
      const sent: Array<{ partition: number; values: string[]; batch: Buffer }> = [];
      for (let p = 0; p < partitions; p++) {
        if (Math.random() < 0.25) continue;
        const values: string[] = [];
        const n = randomInt(1, 12);
        for (let i = 0; i < n; i++) values.push(encodeValue({ cycle, writer: w, seq: seq++ }, p));
        const batch = buildRecordBatch(values.map((value) => ({ key: `w${w}-p${p}`, value })));
        sent.push({ partition: p, values, batch });
      }
      if (sent.length === 0) return;
      for (const s of sent) for (const v of s.values) unknown.add(v);
      const answers = await client.produce(
        TOPIC,
        sent.map((s) => ({ partition: s.partition, batch: s.batch })),
      );
      for (const a of answers) {
        const s = sent.find((x) => x.partition === a.partition)!;
        if (a.errorCode !== ErrorCode.NONE) {
          errors++;
          continue;
        }
        const known = model[a.partition]!;
        s.values.forEach((v, i) => {
          known[Number(a.baseOffset) + i] = v;
          unknown.delete(v);
          ackedLastCycle++;
        });
      }
    };
    const lanes = Array.from({ length: inFlight }, async () => {
      for (;;) await sendOne();
    });
    try {
      await Promise.all(lanes);
    } catch (err) {
      if (!(err instanceof ConnectionLost)) throw err;
    } finally {
      client.close();
    }
    return { errors };
  };

  const start = async (): Promise<BrokerProcess> => {
    producers.restarted();
    return startBrokerProcess({ dataDir: opts.dataDir, overrides, timeoutMs: 60_000 });
  };

  /**
   * Waits until one of the partitions' last segment files grows (a write reached the OS), at most
   * `maxMs`; true if one did. The write of an acks=all batch is answered only once it is durable, so a
   * kill right after it usually leaves the batch in the log unanswered: its retry must be deduplicated.
   */
  const waitForWrite = async (maxMs: number): Promise<boolean> => {
    const files = await Promise.all(
      model.map(async (_, p) => {
        const dir = join(opts.dataDir, `${TOPIC}-${p}`);
        const logs = (await readdir(dir)).filter((f) => f.endsWith('.log')).sort();
        return join(dir, logs.at(-1)!);
      }),
    );
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    const deadline = Date.now() + maxMs;
    while (Date.now() < deadline) {
      const now = await Promise.all(files.map(async (f) => (await stat(f)).size));
      if (now.some((size, i) => size > sizes[i]!)) return true;
    }
    return false;
  };

  /** Writers and the group member stop at the kill; their failures are returned, not thrown. */
  const runWriters = (port: number, cycle: number): Array<Promise<Error | null>> => [
    ...Array.from({ length: writers }, async (_, w) => {
      try {
        const { errors } = await writer(port, cycle, w);
        return errors > 0 ? new CrashCycleFailure(`cycle ${cycle}: ${errors} produce answers carried an error`) : null;
      } catch (err) {
        return err as Error;
      }
    }),
    ...idempotent.map((w) => w.run(port, cycle)),
  ];

  const killDuringStart = async (): Promise<void> => {
    const args = [join(REPO_ROOT, 'bin', 'sluice.js'), 'start', '--port', '0', '--data-dir', opts.dataDir];
    for (const [k, v] of Object.entries(overrides ?? {})) args.push('--override', `${k}=${v}`);
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await sleep(randomInt(60, 250));
    child.kill('SIGKILL');
    await exited;
    report.startupKills++;
  };

  let broker = await start();
  try {
    let client = await WireClient.connect(broker.port);
    const created = await client.createTopic(TOPIC, partitions);
    // The model starts empty, so the data dir must too.
    if (created !== ErrorCode.NONE) throw new CrashCycleFailure(`could not create ${TOPIC}: ${ErrorCode[created]}`);
    client.close();
    await group?.rejoin(broker.port, 'start', false);
    await group?.resume('start');

    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      client = await WireClient.connect(broker.port);
      await produceMarkers(client, cycle);
      client.close();
      const killAfter = randomInt(killMin, killMax);
      const running = runWriters(broker.port, cycle);
      const consuming = group?.consume(`cycle ${cycle}`) ?? Promise.resolve(null);
      await sleep(killAfter);
      const onWrite = Math.random() < killOnWrite && (await waitForWrite(500));
      await broker.kill();
      if (onWrite) report.writeKills++;
      const writerFailure = (await Promise.all(running)).find((f) => f !== null);
      if (writerFailure) throw writerFailure;
      const consumerFailure = await consuming;
      if (consumerFailure) throw new CrashCycleFailure(`cycle ${cycle}: ${consumerFailure.message}`);
      const acked = ackedLastCycle;
      const commitsBefore = group?.report.commitsVerified ?? 0;

      if (opts.killDuringStartEvery && cycle % opts.killDuringStartEvery === 0) await killDuringStart();
      const restartAt = Date.now();
      broker = await start();
      const startMs = Date.now() - restartAt;
      const openMs = /"ms":(\d+),"msg":"listening/.exec(broker.output())?.[1];
      const opened = /^.*"msg":"log dir opened.*$/m.exec(broker.output())?.[0] ?? '';
      if (!opened.includes('"cleanShutdown":false')) {
        throw new CrashCycleFailure(`cycle ${cycle}: after SIGKILL the broker did not scan its logs: ${opened}`);
      }
      if (/recovered with data loss/.test(broker.output())) report.tornTails++;
      client = await WireClient.connect(broker.port);
      const full = cycle % fullCheckEvery === 0 || cycle === opts.cycles;
      try {
        // A consumer rejoins as soon as its coordinator is back; reading the whole log may outlast its session.
        await group?.rejoin(broker.port, `cycle ${cycle}`, true);
        await check(client, cycle, full);
        await group?.resume(`cycle ${cycle}`);
      } catch (err) {
        throw new CrashCycleFailure(
          `${(err as Error).message}\nkilled after ${killAfter} ms; broker output:\n${broker.output().slice(-3000)}`,
        );
      }
      // After every restart: a new producer id, never one given before.
      producers.producerIdGiven(await client.initProducerId(), `cycle ${cycle}`);
      client.close();
      report.cycles = cycle;
      const commits = group ? `, ${group.report.commitsVerified - commitsBefore} commits acknowledged` : '';
      log(
        `cycle ${cycle}: killed after ${killAfter} ms${onWrite ? ' and a write' : ''}, ${acked} acknowledged${commits}, restarted in ${startMs} ms (${openMs} ms in the broker), log ends at [${model.map((m) => m.length).join(', ')}]${full ? ' (full check)' : ''}`,
      );
    }

    // The idempotent writers resend what the last kill left unanswered, then the log still accepts writes
    // after the last crash, and a clean stop needs no scan at the next start.
    for (const w of idempotent) {
      const failure = await w.drain(broker.port, 'after the last cycle');
      if (failure) throw failure;
    }
    client = await WireClient.connect(broker.port);
    await produceMarkers(client, opts.cycles + 1);
    client.close();
    // The member leaves: after the clean restart the group is empty, keeps its offsets, and a new member starts there.
    await group?.leave('before the clean stop');
    const code = await broker.stop();
    if (code !== 0) throw new CrashCycleFailure(`the broker exited with ${code} on SIGTERM`);
    broker = await start();
    if (!/"recovered":0,"cleanShutdown":true/.test(broker.output())) {
      throw new CrashCycleFailure(`after a clean stop the broker scanned its logs:\n${broker.output()}`);
    }
    client = await WireClient.connect(broker.port);
    await group?.rejoin(broker.port, 'after the clean restart', false);
    await check(client, opts.cycles + 1, true);
    await group?.resume('after the clean restart');
    await produceMarkers(client, opts.cycles + 2);
    client.close();
    report.totalRecords = model.reduce((n, m) => n + m.length, 0);
    if (group) report.group = group.report;
    report.duplicated += producers.duplicated;
    if (idempotentWriters > 0) report.producers = producers.report;
    return report;
  } finally {
    group?.close();
    if (broker.child.exitCode === null && broker.child.signalCode === null) await broker.stop();
  }
}

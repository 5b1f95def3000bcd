/**
 * `npm run bench`: Sluice's figures against the machine's own limits and a peer, measured in one run, so
 * the ratios hold on a noisy shared machine. The broker runs as a separate process (disk engine, a temp
 * dir, default settings); load generators and baselines run in processes of their own, so no two of
 * them share an event loop. Each figure is the median of --runs runs (default 3); baseline and Sluice
 * runs alternate, so noise touches both alike.
 *
 *   npm run bench                 the full suite (about 5 minutes on 2 cores)
 *   npm run bench -- --quick      smaller counts, the same rows (about 1–2 minutes)
 *   npm run bench -- --profile    runs the broker under node --cpu-prof, one profile per section (in
 *                                 $TMPDIR/sluice-bench-profiles), prints each one's top self-time
 *                                 functions, start-up left out; skips the baselines (ignore the figures)
 *   npm run bench -- --only produce-1k,startup    some sections only
 *   npm run bench -- --markdown   also prints the table in Markdown (for the README and bench/PERFORMANCE.md)
 *
 * The `kafka` section runs Apache Kafka (the test peer: tools/kafka-peer/install.sh) beside Sluice under
 * the same loads — `sluice perf` and Kafka's own ProducerPerformance/ConsumerPerformance against both —
 * and prints Sluice ÷ Kafka; it is "not measured" where Java or Kafka's jars are missing.
 *
 * Results: a table on stdout and bench/results/latest.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeTemplate } from '../src/cli/perf/request-pipe.js';
import type { PerfSummary } from '../src/cli/perf/stats.js';
import { MB } from '../src/cli/perf/stats.js';
import { Admin } from '../src/client/admin.js';
import { KafkaClient } from '../src/client/client.js';
import { ApiVersionsApi } from '../src/protocol/generated/18-api-versions.js';
import { kafkaPeerUnavailable, startKafkaPeer } from '../test/helpers/kafka-peer.js';
import { consumerPerformance, producerPerformance, type ToolRate } from './lib/kafka-tools.js';
import {
  cpuMs,
  DIST_BENCH,
  freePort,
  ROOT,
  rssBytes,
  runJson,
  SLUICE_BIN,
  type Spawned,
  spawnListening,
  startBareListener,
  startBrokerProcess,
  startJsonServer,
  timeCommand,
  which,
} from './lib/procs.js';
import { evaluate, markdownTable, median, type Row, type RowResult, textTable } from './lib/table.js';
import { formatSelfTimes } from './profile-summary.js';

const SECTIONS = ['produce-1k', 'produce-100', 'acks-all', 'latency', 'startup', 'redis', 'kcat', 'kafka'] as const;
type Section = (typeof SECTIONS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    runs: { type: 'string' },
    profile: { type: 'boolean' },
    only: { type: 'string' },
    out: { type: 'string' },
    markdown: { type: 'boolean' },
  },
});
const quick = args.quick ?? false;
const RUNS = Number(args.runs ?? 3);
const only = new Set((args.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()));
for (const s of only)
  if (!(SECTIONS as readonly string[]).includes(s))
    throw new Error(`--only: unknown section "${s}" (${SECTIONS.join(', ')})`);
const wants = (s: Section) => only.has(s);

/** Counts: the full suite, or a fifth of it with --quick. */
const SIZE = {
  records1k: quick ? 60_000 : 300_000,
  records100: quick ? 200_000 : 1_000_000,
  recordsAcksAll: quick ? 20_000 : 100_000,
  latencySeconds: quick ? 2 : 5,
  kcatLines: quick ? 200_000 : 1_000_000,
  connections: 1000,
  partitions: 1000,
};
/** Batch sizes (Kafka's batch.size, bytes) and pipelining of the throughput rows. */
const THROUGHPUT_BATCH = 65536;
const ACKS_ALL_BATCH = 16384;
const IN_FLIGHT = 5;
const CONSUME_PARTITION_MAX_BYTES = 1048576;

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
const resultsDir = join(ROOT, 'bench', 'results');
const profileDir = join(tmpdir(), 'sluice-bench-profiles');
const rows: Row[] = [];
const profiles: Record<string, string> = {};
const notes: string[] = [];
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

const baselines = join(DIST_BENCH, 'baselines.js');

/** Broker CPU per MB moved, per row: a figure that machine noise moves less than wall-clock rates. */
const brokerCpu: Record<string, number[]> = {};

/** Runs `sluice perf` in its own process against broker `b` (Sluice or Kafka), noting its CPU time per MB. */
async function perf(
  action: 'produce' | 'consume',
  b: Pick<Spawned, 'child' | 'port'>,
  flags: Record<string, string | number>,
  cpuKey?: string,
): Promise<PerfSummary> {
  const list = Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const before = cpuMs(b.child.pid!);
  const summary = await runJson<PerfSummary>(SLUICE_BIN, [
    'perf',
    action,
    '-b',
    `127.0.0.1:${b.port}`,
    ...list,
    '--json',
    '-q',
  ]);
  if (cpuKey) (brokerCpu[cpuKey] ??= []).push((cpuMs(b.child.pid!) - before) / (summary.bytes / MB));
  return summary;
}

interface Rate {
  writesPerSec: number;
  bytesPerSec: number;
  p50Ms?: number;
  p99Ms?: number;
}
interface PumpRate {
  framesPerSec: number;
  bytesPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

function fileWrite(writeSize: number, count: number): Promise<Rate> {
  return runJson<Rate>(baselines, [
    'file-write',
    '--dir',
    work,
    '--write-size',
    String(writeSize),
    '--count',
    String(count),
  ]);
}

async function withPump<T>(body: (port: number) => Promise<T>): Promise<T> {
  const server = await startJsonServer<{ port: number }>(baselines, ['pump-server']);
  try {
    return await body(server.info.port);
  } finally {
    await server.stop();
  }
}

function pump(port: number, frameSize: number, count: number, inFlight: number, rate = 0): Promise<PumpRate> {
  const a = ['pump-client', '--port', String(port), '--frame-size', String(frameSize), '--count', String(count)];
  a.push('--in-flight', String(inFlight));
  if (rate > 0) a.push('--rate', String(rate));
  return runJson<PumpRate>(baselines, a);
}

let brokerSerial = 0;
/** A broker process on a fresh data dir, profiled with --profile. */
async function broker(section: string, dataDir?: string): Promise<Spawned & { dataDir: string }> {
  const dir = dataDir ?? join(work, `data-${++brokerSerial}`);
  mkdirSync(dir, { recursive: true });
  const cpuProfDir = args.profile ? join(profileDir, section) : undefined;
  const b = await startBrokerProcess({ dataDir: dir, logFile: join(work, `broker-${section}.log`), cpuProfDir });
  return { ...b, dataDir: dir };
}

/** Stops a broker; profiled, prints the top self-time functions of its run, start-up left out. */
async function stopBroker(b: Spawned, section: string): Promise<void> {
  await b.stop();
  if (!args.profile) return;
  const dir = join(profileDir, section);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) {
    const text = formatSelfTimes(join(dir, f), 25, b.startupMs + 200);
    profiles[section] = text;
    writeFileSync(join(dir, 'summary.txt'), `${text}\n`);
    log(`profile of the broker during ${section}:\n${text}`);
  }
}

/**
 * Adds a row to the table, its keys in the order Row declares them (latest.json keeps that order; keys
 * left undefined do not appear in it).
 */
function addRow(
  section: string,
  name: string,
  unit: string,
  runs: number[],
  baseline?: { name: string; runs: number[] },
  more: Pick<Row, 'target' | 'targetOnRatio' | 'notMeasured' | 'note'> = {},
): void {
  const { target, targetOnRatio, notMeasured, note } = more;
  rows.push({ section, name, unit, runs, baseline, target, targetOnRatio, notMeasured, note });
}

/** Rows `${name} p50` and `${name} p99` in ms against a baseline's; `note` goes on the p50 row. */
function percentileRows(
  section: string,
  name: string,
  sluice: { p50: number[]; p99: number[] },
  baseline: { name: string; p50: number[]; p99: number[] },
  targets: { p50: number; p99: number },
  note?: string,
): void {
  for (const p of ['p50', 'p99'] as const)
    addRow(
      section,
      `${name} ${p}`,
      'ms',
      sluice[p],
      { name: baseline.name, runs: baseline[p] },
      { target: { op: '<=', value: targets[p] }, note: p === 'p50' ? note : undefined },
    );
}

/** Produce then consume N records of `recordSize` bytes, acks=1, RUNS times, with their ceilings. */
async function throughput(
  section: Section,
  recordSize: number,
  records: number,
): Promise<{ produce: number[]; consume: number[] }> {
  const label = recordSize === 1024 ? '1 KiB' : `${recordSize} B`;
  const produced: PerfSummary[] = [];
  const consumed: PerfSummary[] = [];
  const fileRuns: number[] = [];
  const pumpRuns: number[] = [];
  const readPumpRuns: number[] = [];
  let b = await broker(`${section}-produce`);
  const dataDir = b.dataDir;
  try {
    await withPump(async (pumpPort) => {
      for (let run = 1; run <= RUNS; run++) {
        const p = await perf(
          'produce',
          b,
          {
            topic: `${section}-${run}`,
            'num-records': records,
            'record-size': recordSize,
            'batch-size': THROUGHPUT_BATCH,
            acks: 1,
            'max-in-flight': IN_FLIGHT,
          },
          `produce ${label}`,
        );
        produced.push(p);
        if (args.profile) {
          log(`${section} run ${run}: produce ${fmtRate(p)} (profiled)`);
          continue;
        }
        const batches = p.requests;
        const perBatch = p.batchRecords!;
        const f = await fileWrite(p.batchBytes!, batches);
        const pu = await pump(pumpPort, p.batchBytes! + 100, batches, IN_FLIGHT);
        const valueBytes = perBatch * recordSize;
        fileRuns.push(recordSize === 1024 ? (f.writesPerSec * valueBytes) / MB : f.writesPerSec * perBatch);
        pumpRuns.push(recordSize === 1024 ? (pu.framesPerSec * valueBytes) / MB : pu.framesPerSec * perBatch);
        log(
          `${section} run ${run}: produce ${fmtRate(p)}; file write ${fmtBytes(f.bytesPerSec)}; socket pump ${fmtBytes(pu.bytesPerSec)}`,
        );
      }
      // Profiled, the consume runs get a broker (and a profile) of their own, on the same data.
      if (args.profile) {
        await stopBroker(b, `${section}-produce`);
        b = await broker(`${section}-consume`, dataDir);
      }
      for (let run = 1; run <= RUNS; run++) {
        const c = await perf(
          'consume',
          b,
          {
            topic: `${section}-${run}`,
            'num-records': records,
            'partition-max-bytes': CONSUME_PARTITION_MAX_BYTES,
          },
          `consume ${label}`,
        );
        consumed.push(c);
        if (args.profile) {
          log(`${section} run ${run}: consume ${fmtRate(c)} (profiled)`);
          continue;
        }
        const frames = Math.max(20, Math.ceil(c.bytes / CONSUME_PARTITION_MAX_BYTES));
        const rp = await pump(pumpPort, CONSUME_PARTITION_MAX_BYTES, frames, IN_FLIGHT);
        readPumpRuns.push(recordSize === 1024 ? rp.bytesPerSec / MB : rp.bytesPerSec / (c.bytes / c.records));
        log(`${section} run ${run}: consume ${fmtRate(c)}; socket pump (1 MiB frames) ${fmtBytes(rp.bytesPerSec)}`);
      }
    });
  } finally {
    await stopBroker(b, `${section}-${args.profile ? 'consume' : 'produce'}`);
  }
  const big = recordSize === 1024;
  const produceFigures = produced.map((p) => (big ? p.mbPerSec : p.recordsPerSec));
  const consumeFigures = consumed.map((c) => (big ? c.mbPerSec : c.recordsPerSec));
  const unit = big ? 'MB/s' : 'records/s';
  const batchNote = `${produced[0].batchRecords} records (${produced[0].batchBytes} B) per batch, ${IN_FLIGHT} in flight`;
  addRow(
    section,
    `produce ${label} acks=1 vs file write`,
    unit,
    produceFigures,
    { name: 'file write', runs: fileRuns },
    {
      target: { op: '>=', value: big ? 300 : 1_500_000 },
      note: `${batchNote}; the baseline writes the same batches to a new file with writeSync`,
    },
  );
  addRow(
    section,
    `produce ${label} acks=1 vs socket pump`,
    unit,
    produceFigures,
    { name: 'socket pump', runs: pumpRuns },
    { note: 'the baseline sends the same frame sizes to a Node process that answers each with 8 bytes' },
  );
  addRow(
    section,
    `consume ${label} from page cache`,
    unit,
    consumeFigures,
    { name: 'socket pump', runs: readPumpRuns },
    {
      target: { op: '>=', value: big ? 800 : 4_000_000 },
      note: `one partition, Fetch max ${CONSUME_PARTITION_MAX_BYTES} B per partition; MB/s counts record batch bytes`,
    },
  );
  return { produce: produced.map((p) => p.recordsPerSec), consume: consumed.map((c) => c.recordsPerSec) };
}

async function acksAll(): Promise<void> {
  const section = 'acks-all';
  const b = await broker(section);
  const sluice = { mbps: [] as number[], p50: [] as number[], p99: [] as number[] };
  const base = { mbps: [] as number[], p50: [] as number[], p99: [] as number[] };
  try {
    for (let run = 1; run <= RUNS; run++) {
      const p = await perf(
        'produce',
        b,
        {
          topic: `${section}-${run}`,
          'num-records': SIZE.recordsAcksAll,
          'record-size': 1024,
          'batch-size': ACKS_ALL_BATCH,
          acks: 'all',
          'max-in-flight': IN_FLIGHT,
        },
        'produce 1 KiB acks=all',
      );
      sluice.mbps.push(p.mbPerSec);
      sluice.p50.push(p.latencyMs.p50);
      sluice.p99.push(p.latencyMs.p99);
      if (args.profile) continue;
      const count = Math.min(p.requests, quick ? 1000 : 3000);
      const f = await runJson<Rate>(baselines, [
        'fsync-loop',
        '--dir',
        work,
        '--write-size',
        String(p.batchBytes),
        '--count',
        String(count),
      ]);
      base.mbps.push((f.writesPerSec * p.batchRecords! * 1024) / MB);
      base.p50.push(f.p50Ms!);
      base.p99.push(f.p99Ms!);
      log(
        `${section} run ${run}: produce ${fmtRate(p)}, p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms; write+fdatasync ${fmtBytes(f.bytesPerSec)}, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms`,
      );
    }
  } finally {
    await stopBroker(b, section);
  }
  const note = `1 KiB records, batch.size ${ACKS_ALL_BATCH}, ${IN_FLIGHT} in flight; the baseline writes each batch and fdatasyncs, one at a time`;
  const baseline = 'write+fdatasync';
  addRow(
    section,
    'produce acks=all (fsync)',
    'MB/s',
    sluice.mbps,
    { name: baseline, runs: base.mbps },
    { target: { op: '>=', value: 90 }, note },
  );
  percentileRows(section, 'produce acks=all latency', sluice, { name: baseline, ...base }, { p50: 1, p99: 4 });
}

async function latency(maxRecordsPerSec: number): Promise<void> {
  const section = 'latency';
  const rate = Math.round(maxRecordsPerSec / 2);
  const records = Math.max(1000, Math.round(rate * SIZE.latencySeconds));
  const b = await broker(section);
  const sluice = { p50: [] as number[], p99: [] as number[] };
  const base = { p50: [] as number[], p99: [] as number[] };
  let batchRecords = 0;
  try {
    await withPump(async (pumpPort) => {
      for (let run = 1; run <= RUNS; run++) {
        const p = await perf('produce', b, {
          topic: `${section}-${run}`,
          'num-records': records,
          'record-size': 1024,
          'batch-size': THROUGHPUT_BATCH,
          'linger-ms': 5,
          acks: 1,
          'max-in-flight': IN_FLIGHT,
          throughput: rate,
        });
        batchRecords = p.batchRecords!;
        sluice.p50.push(p.latencyMs.p50);
        sluice.p99.push(p.latencyMs.p99);
        if (args.profile) continue;
        const pu = await pump(pumpPort, p.batchBytes! + 100, p.requests, IN_FLIGHT, rate / batchRecords);
        base.p50.push(pu.p50Ms);
        base.p99.push(pu.p99Ms);
        log(
          `${section} run ${run}: ${rate} records/s: p50 ${p.latencyMs.p50} ms, p99 ${p.latencyMs.p99} ms; socket pump p50 ${pu.p50Ms} ms, p99 ${pu.p99Ms} ms`,
        );
      }
    });
  } finally {
    await stopBroker(b, section);
  }
  const note = `1 KiB records at ${rate} records/s (half the measured acks=1 maximum), linger 5 ms → ${batchRecords} records per batch; latency counts from each batch's scheduled time`;
  percentileRows(
    section,
    'acks=1 latency at 50 % load',
    sluice,
    { name: 'socket pump', ...base },
    { p50: 1, p99: 5 },
    note,
  );
}

/** Settles, then reads the RSS of a process. */
async function settledRss(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 1000));
  return rssBytes(pid);
}

async function connectionsRss(target: Spawned, frameFile: string): Promise<number> {
  const before = await settledRss(target.child.pid!);
  const holder = await startJsonServer<{ connections: number }>(baselines, [
    'hold',
    '--port',
    String(target.port),
    '--count',
    String(SIZE.connections),
    '--frame-file',
    frameFile,
  ]);
  try {
    const after = await settledRss(target.child.pid!);
    return (after - before) / holder.info.connections;
  } finally {
    await holder.stop();
  }
}

async function startup(): Promise<void> {
  const section = 'startup';
  const apiVersions = encodeTemplate(ApiVersionsApi, 3, 'bench', {
    clientSoftwareName: 'bench',
    clientSoftwareVersion: '1',
  });
  const frame = Buffer.alloc(12 + apiVersions.tail.length);
  frame.writeInt32BE(frame.length - 4, 0);
  frame.writeInt16BE(apiVersions.apiKey, 4);
  frame.writeInt16BE(apiVersions.apiVersion, 6);
  frame.writeInt32BE(1, 8);
  apiVersions.tail.copy(frame, 12);
  const frameFile = join(work, 'api-versions.bin');
  writeFileSync(frameFile, frame);

  // A data dir with one topic of SIZE.partitions partitions, made by a broker that is then stopped.
  const wideDir = join(work, 'wide');
  {
    const b = await broker('startup-setup', wideDir);
    const client = new KafkaClient({ bootstrap: `127.0.0.1:${b.port}`, requestTimeoutMs: 120_000 });
    try {
      const [r] = await new Admin(client).createTopics([{ name: 'wide', partitions: SIZE.partitions }], {
        timeoutMs: 120_000,
      });
      if (r.errorCode !== 0)
        throw new Error(`creating ${SIZE.partitions} partitions failed: error ${r.errorCode} ${r.errorMessage}`);
    } finally {
      await client.close();
      await b.stop();
    }
  }

  const r = {
    empty: [] as number[],
    wide: [] as number[],
    bare: [] as number[],
    rss: [] as number[],
    bareRss: [] as number[],
  };
  const perConn = { sluice: [] as number[], bare: [] as number[] };
  const perPartition = { sluice: [] as number[], openFiles: [] as number[] };
  for (let run = 1; run <= RUNS; run++) {
    const bare = await startBareListener(join(work, 'bare.log'));
    r.bare.push(bare.startupMs);
    r.bareRss.push(await settledRss(bare.child.pid!));
    perConn.bare.push(await connectionsRss(bare, frameFile));
    await bare.stop();

    const empty = await broker(`${section}-empty`);
    r.empty.push(empty.startupMs);
    const emptyRss = await settledRss(empty.child.pid!);
    r.rss.push(emptyRss);
    perConn.sluice.push(await connectionsRss(empty, frameFile));
    await empty.stop();
    rmSync(empty.dataDir, { recursive: true, force: true });

    const wide = await broker(`${section}-wide`, wideDir);
    r.wide.push(wide.startupMs);
    perPartition.sluice.push(((await settledRss(wide.child.pid!)) - emptyRss) / SIZE.partitions);
    await wide.stop();
    const files = await runJson<{ files: number; rssBytes: number }>(baselines, ['open-files', '--dir', wideDir]);
    perPartition.openFiles.push(files.rssBytes / SIZE.partitions);
    log(
      `${section} run ${run}: empty ${empty.startupMs.toFixed(0)} ms, ${SIZE.partitions} partitions ${wide.startupMs.toFixed(0)} ms, bare node ${bare.startupMs.toFixed(0)} ms; idle RSS ${(emptyRss / MB).toFixed(1)} MiB`,
    );
  }
  const bare = (runs: number[]) => ({ name: 'bare node', runs });
  const kib = (v: number) => v / 1024;
  addRow(section, 'start-up to first accepted connection, empty', 'ms', r.empty, bare(r.bare), {
    target: { op: '<=', value: 150 },
    note: 'baseline: a bare Node process listening on a TCP port',
  });
  addRow(section, `start-up, ${SIZE.partitions} partitions`, 'ms', r.wide, bare(r.bare), {
    target: { op: '<=', value: 1000 },
  });
  addRow(
    section,
    'idle RSS',
    'MiB',
    r.rss.map((v) => v / MB),
    bare(r.bareRss.map((v) => v / MB)),
    {
      target: { op: '<=', value: 60 },
    },
  );
  addRow(
    section,
    `RSS per idle connection (${SIZE.connections})`,
    'KiB',
    perConn.sluice.map(kib),
    bare(perConn.bare.map(kib)),
    { note: 'each connection sent one ApiVersions request' },
  );
  addRow(
    section,
    'RSS per partition',
    'KiB',
    perPartition.sluice.map(kib),
    { name: 'open files', runs: perPartition.openFiles.map(kib) },
    { note: 'baseline: a Node process opening every file of those partitions' },
  );
}

/**
 * redis-server from the PATH or Debian's usual places; in CI (env CI set), as root with apt-get, it is
 * installed first. Elsewhere a missing server only leaves the Redis rows unmeasured.
 */
function locateRedis(): string | null {
  const find = () =>
    which('redis-server') ?? ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find((p) => existsSync(p)) ?? null;
  const found = find();
  if (found || !process.env.CI || process.getuid?.() !== 0 || !which('apt-get')) return found;
  log('redis-server is missing; CI is set, so installing it with apt-get (Debian package redis-server)');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '-q', 'redis-server'], { stdio: 'ignore', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'ignore', env });
    r = spawnSync('apt-get', ['install', '-y', '-q', 'redis-server'], { stdio: 'ignore', env });
  }
  if (r.status !== 0) log('apt-get install redis-server failed');
  return find();
}

async function redis(sluice100: { produce: number[]; consume: number[] } | null): Promise<void> {
  const section = 'redis';
  const server = locateRedis();
  const unit = 'records/s';
  if (!server || !sluice100) {
    const why = !server
      ? 'redis-server is not installed (apt-get install redis-server)'
      : 'needs the produce-100 section';
    log(`${section}: not measured: ${why}`);
    for (const name of ['100 B append vs Redis Streams XADD', '100 B read-back vs Redis Streams XREAD'])
      addRow(section, name, unit, [], undefined, { notMeasured: why });
    return;
  }
  const port = await freePort();
  const r = await spawnListening(
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    port,
    join(work, 'redis.log'),
    server,
  );
  const append: number[] = [];
  const read: number[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const x = await runJson<{ appendPerSec: number; readPerSec: number; read: number }>(
        join(DIST_BENCH, 'redis-streams.js'),
        ['--port', String(port), '--records', String(SIZE.records100), '--size', '100'],
      );
      append.push(x.appendPerSec);
      read.push(x.readPerSec);
      log(
        `${section} run ${run}: XADD ${Math.round(x.appendPerSec)} records/s, XREAD ${Math.round(x.readPerSec)} records/s`,
      );
    }
  } finally {
    await r.stop();
  }
  const note = `${SIZE.records100} values of 100 B; Redis without persistence (--save '' --appendonly no), ioredis pipelines of 1000 XADDs, 4 at once; XREAD COUNT 10000`;
  const threeTimes = { target: { op: '>=', value: 3 }, targetOnRatio: true } as const;
  addRow(
    section,
    '100 B append: Sluice ÷ Redis Streams XADD',
    unit,
    sluice100.produce,
    { name: 'Redis', runs: append },
    {
      ...threeTimes,
      note,
    },
  );
  addRow(
    section,
    '100 B read-back: Sluice ÷ Redis Streams XREAD',
    unit,
    sluice100.consume,
    { name: 'Redis', runs: read },
    threeTimes,
  );
}

async function kcat(sluice100: { produce: number[]; consume: number[] } | null): Promise<void> {
  const section = 'kcat';
  const unit = 'records/s';
  const bin = which('kcat') ?? which('kafkacat');
  if (!bin) {
    const why = 'kcat is not installed (apt-get install kcat)';
    log(`${section}: not measured: ${why}`);
    for (const name of ['kcat -P', 'kcat -C -e']) addRow(section, name, unit, [], undefined, { notMeasured: why });
    return;
  }
  const lines = SIZE.kcatLines;
  const file = join(work, 'lines.txt');
  const line = `${'x'.repeat(99)}\n`;
  writeFileSync(file, line.repeat(lines));
  const b = await broker(section);
  const bootstrap = `127.0.0.1:${b.port}`;
  const produce: number[] = [];
  const consume: number[] = [];
  try {
    const client = new KafkaClient({ bootstrap });
    try {
      for (let run = 1; run <= RUNS; run++) {
        const topic = `kcat-${run}`;
        await new Admin(client).createTopics([{ name: topic, partitions: 1 }]);
        const p = await timeCommand(bin, ['-P', '-b', bootstrap, '-t', topic, '-p', '0', '-X', 'acks=1', '-l', file]);
        const c = await timeCommand(bin, [
          '-C',
          '-b',
          bootstrap,
          '-t',
          topic,
          '-p',
          '0',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-f',
          '%o\\n',
        ]);
        if (c.lines !== lines) throw new Error(`kcat -C read ${c.lines} records back, not ${lines}`);
        produce.push(lines / p.seconds);
        consume.push(lines / c.seconds);
        log(`${section} run ${run}: -P ${p.seconds.toFixed(2)} s, -C ${c.seconds.toFixed(2)} s for ${lines} lines`);
      }
    } finally {
      await client.close();
    }
  } finally {
    await stopBroker(b, section);
  }
  const perf100 = (runs: number[] | undefined) => (runs ? { name: 'sluice perf', runs } : undefined);
  const note = `${lines} lines of 99 B + newline; timed as whole commands (process start included); kcat -P with acks=1, librdkafka defaults otherwise; baseline: sluice perf on 100 B records`;
  addRow(section, `kcat -P ${lines} lines`, unit, produce, perf100(sluice100?.produce), { note });
  addRow(section, 'kcat -C -e read back', unit, consume, perf100(sluice100?.consume));
}

/**
 * Sluice and Apache Kafka (one broker, Kafka's defaults, 1 GiB heap as kafka-server-start gives it) on the
 * same machine under the same loads; runs alternate between the two so noise touches both alike. Kafka
 * acknowledges acks=all once the write is in its page cache; the `flush.messages=1` rows make it fsync
 * every batch as Sluice does, so those rows compare the same durability.
 */
async function versusKafka(): Promise<void> {
  const section = 'kafka';
  const rowNames = [
    'sluice perf produce 1 KiB acks=1',
    'sluice perf consume 1 KiB',
    'sluice perf produce 1 KiB acks=all vs Kafka (no fsync)',
    'sluice perf produce 1 KiB acks=all vs Kafka flush.messages=1',
    'ProducerPerformance 1 KiB acks=1',
    'ConsumerPerformance 1 KiB',
    'ProducerPerformance 1 KiB acks=all vs Kafka flush.messages=1',
  ];
  const why = kafkaPeerUnavailable();
  if (why) {
    log(`${section}: not measured: ${why}`);
    for (const name of rowNames) addRow(section, name, 'MB/s', [], undefined, { notMeasured: why });
    return;
  }
  const kafka = await startKafkaPeer({ heap: '1g', timeoutMs: 120_000 });
  const b = await broker(section);
  const targets = { sluice: b, kafka };
  const bootstrap = (t: Pick<Spawned, 'port'>) => `127.0.0.1:${t.port}`;
  const figures: Record<string, { sluice: number[]; kafka: number[] }> = {};
  const record = (row: string, who: 'sluice' | 'kafka', mbPerSec: number) => {
    const f = (figures[row] ??= { sluice: [], kafka: [] });
    f[who].push(mbPerSec);
  };
  const createTopic = async (t: Pick<Spawned, 'port'>, name: string, configs?: Record<string, string>) => {
    const client = new KafkaClient({ bootstrap: bootstrap(t) });
    try {
      const [r] = await new Admin(client).createTopics([{ name, partitions: 1, replicationFactor: 1, configs }]);
      if (r.errorCode !== 0) throw new Error(`creating ${name} failed: error ${r.errorCode} ${r.errorMessage}`);
    } finally {
      await client.close();
    }
  };
  const records = SIZE.records1k;
  const acksAllRecords = SIZE.recordsAcksAll;
  try {
    // A warm-up for both, so Kafka's JIT compiler and Sluice's are past their first requests in run 1.
    for (const t of [b, kafka]) {
      await createTopic(t, 'warm-up');
      await perf('produce', t, { topic: 'warm-up', 'num-records': 20_000, 'record-size': 1024 });
      await perf('consume', t, { topic: 'warm-up', 'num-records': 20_000 });
    }
    for (let run = 1; run <= RUNS; run++) {
      for (const who of ['sluice', 'kafka'] as const) {
        const t = targets[who];
        const topic = `kafka-${run}`;
        await createTopic(t, topic);
        const p = await perf(
          'produce',
          t,
          {
            topic,
            'num-records': records,
            'record-size': 1024,
            'batch-size': THROUGHPUT_BATCH,
            acks: 1,
            'max-in-flight': IN_FLIGHT,
          },
          `${who} produce 1 KiB (kafka section)`,
        );
        record(rowNames[0], who, p.mbPerSec);
        const c = await perf(
          'consume',
          t,
          { topic, 'num-records': records, 'partition-max-bytes': CONSUME_PARTITION_MAX_BYTES },
          `${who} consume 1 KiB (kafka section)`,
        );
        record(rowNames[1], who, c.mbPerSec);
        const flushModes = who === 'sluice' ? [undefined] : [undefined, { 'flush.messages': '1' }];
        for (const configs of flushModes) {
          const acksTopic = `kafka-all-${run}${configs ? '-flush' : ''}`;
          await createTopic(t, acksTopic, configs);
          const a = await perf('produce', t, {
            topic: acksTopic,
            'num-records': acksAllRecords,
            'record-size': 1024,
            'batch-size': ACKS_ALL_BATCH,
            acks: 'all',
            'max-in-flight': IN_FLIGHT,
          });
          if (who === 'sluice' || !configs) record(rowNames[2], who, a.mbPerSec);
          if (who === 'sluice' || configs) record(rowNames[3], who, a.mbPerSec);
        }
        const toolTopic = `kafka-tool-${run}`;
        await createTopic(t, toolTopic);
        const tp: ToolRate = await producerPerformance({
          bootstrap: bootstrap(t),
          topic: toolTopic,
          records,
          recordSize: 1024,
          acks: '1',
          batchSize: THROUGHPUT_BATCH,
        });
        record(rowNames[4], who, tp.mbPerSec);
        const tc = await consumerPerformance({ bootstrap: bootstrap(t), topic: toolTopic, records });
        record(rowNames[5], who, tc.mbPerSec);
        const toolAcksTopic = `kafka-tool-all-${run}`;
        await createTopic(t, toolAcksTopic, who === 'kafka' ? { 'flush.messages': '1' } : undefined);
        const ta = await producerPerformance({
          bootstrap: bootstrap(t),
          topic: toolAcksTopic,
          records: acksAllRecords,
          recordSize: 1024,
          acks: 'all',
          batchSize: ACKS_ALL_BATCH,
        });
        record(rowNames[6], who, ta.mbPerSec);
        log(
          `${section} run ${run} ${who}: sluice perf produce ${p.mbPerSec.toFixed(0)} MB/s, consume ${c.mbPerSec.toFixed(0)} MB/s; ProducerPerformance ${tp.mbPerSec.toFixed(0)} MB/s, ConsumerPerformance ${tc.mbPerSec.toFixed(0)} MB/s, acks=all ${ta.mbPerSec.toFixed(1)} MB/s`,
        );
      }
    }
  } finally {
    await stopBroker(b, section);
    await kafka.stop();
  }
  const notes: Record<string, string> = {
    [rowNames[0]]: `Kafka ${kafka.output().match(/Kafka version: (\S+)/)?.[1] ?? ''} with its default settings, 1 GiB heap; ${records} records of 1 KiB, batch.size ${THROUGHPUT_BATCH}, ${IN_FLIGHT} in flight, one partition; ratio = Sluice ÷ Kafka`,
    [rowNames[2]]:
      'Kafka acknowledges acks=all before fsync (its default): Sluice fsyncs first, so this row compares different durability',
    [rowNames[4]]:
      "Kafka's own load generators (kafka-tools) with the client's defaults (idempotent at acks=all), linger.ms 5, against both brokers",
    [rowNames[5]]: 'fetch.MB.sec: the time to join the consumer group left out',
  };
  for (const name of rowNames) {
    const f = figures[name];
    addRow(
      section,
      `${name}: Sluice ÷ Kafka`,
      'MB/s',
      f.sluice,
      { name: 'Kafka', runs: f.kafka },
      { note: notes[name] },
    );
  }
}

function fmtRate(s: PerfSummary): string {
  return `${Math.round(s.recordsPerSec)} records/s, ${s.mbPerSec.toFixed(1)} MB/s`;
}
function fmtBytes(bytesPerSec: number): string {
  return `${(bytesPerSec / MB).toFixed(0)} MB/s`;
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`${quick ? 'quick' : 'full'} suite, ${RUNS} runs per figure, work dir ${work}`);
  if (args.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  let max1k: number | null = null;
  let sluice100: { produce: number[]; consume: number[] } | null = null;
  if (wants('produce-1k')) max1k = median((await throughput('produce-1k', 1024, SIZE.records1k)).produce);
  if (wants('produce-100')) sluice100 = await throughput('produce-100', 100, SIZE.records100);
  if (wants('acks-all')) await acksAll();
  if (wants('latency')) {
    if (max1k === null) {
      log('latency: measuring the acks=1 maximum first (produce-1k)');
      max1k = median((await throughput('produce-1k', 1024, SIZE.records1k)).produce);
    }
    await latency(max1k!);
  }
  if (wants('startup')) await startup();
  if (wants('redis')) await redis(sluice100);
  if (wants('kcat')) await kcat(sluice100);
  if (wants('kafka')) await versusKafka();

  const results: RowResult[] = rows.map(evaluate);
  const seconds = (Date.now() - started) / 1000;
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(`\nSluice bench (${quick ? 'quick' : 'full'}, median of ${RUNS} runs, ${seconds.toFixed(0)} s)`);
  console.log(textTable(results));
  for (const r of results) {
    if (r.note) notes.push(`${r.name}: ${r.note}`);
    if (r.notMeasured) notes.push(`${r.name}: not measured: ${r.notMeasured}`);
  }
  const cpu = Object.entries(brokerCpu).map(([k, v]) => {
    const m = median(v)!;
    return `${k}: ${m.toFixed(1)} ms (${(1000 / m).toFixed(0)} MB per CPU-second)`;
  });
  if (cpu.length > 0) notes.push(`broker CPU (all threads) per MB, median: ${cpu.join('; ')}`);
  console.log(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);

  mkdirSync(resultsDir, { recursive: true });
  const out = args.out ?? join(resultsDir, 'latest.json');
  const machine = await import('node:os').then((os) => ({
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  }));
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), command, quick, runs: RUNS, seconds, machine, rows: results, brokerCpuMsPerMB: brokerCpu, profiles }, null, 2)}\n`,
  );
  // bench/results is checked by `npm run lint` (biome) unless biome.json ignores it: write it as biome would.
  const biome = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  if (existsSync(biome)) spawnSync(process.execPath, [biome, 'format', '--write', out], { stdio: 'ignore' });
  if (args.markdown) console.log(`\n${markdownTable(results)}\n\n${notes.map((n) => `- ${n}`).join('\n')}`);
  log(`results in ${out}`);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}

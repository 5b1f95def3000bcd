/**
 * Runs fuzz cases against a live broker process over TCP: several connections, pipelined requests, a canary
 * connection that must keep getting Metadata answers, and the broker's RSS sampled from /proc. A run fails
 * on a crash, a stalled canary, RSS over the bound, an answer that breaks the case's expectation, a request
 * that neither gets an answer nor closes its connection, or a log line saying the broker hit a bug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { API_BY_KEY, ApiVersionsApi, CreateTopicsApi, MetadataApi } from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { REPO_ROOT, removeDir, tempDir } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import {
  buildBatchTemplates,
  caseSeed,
  FUZZ_TOPICS,
  type FuzzCase,
  type FuzzContext,
  makeCase,
  type ServedRange,
} from './cases.js';

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Fuzzing connections working at once (the canary comes on top). */
  connections?: number;
  /** Most requests sent back to back on one connection before reading the answers. */
  pipeline?: number;
  rssLimitMiB?: number;
  /** Longest a canary Metadata request may wait for its answer. */
  canaryBoundMs?: number;
  /** How long an answer or a close may take before the case counts as hung. */
  answerTimeoutMs?: number;
  /** Only these api keys (default: every served one). */
  apiKeys?: number[];
  /** Called every few seconds with a progress line. */
  progress?: (line: string) => void;
}

export interface FuzzFailure {
  kind: string;
  detail: string;
  cases: FuzzCase[];
}

export interface FuzzReport {
  cases: number;
  crashes: number;
  failures: FuzzFailure[];
  maxRssMiB: number;
  canaryRequests: number;
  canaryMaxMs: number;
  /** Cases by what the broker had to do with them. */
  expectations: Record<string, number>;
  /** Decodable requests whose connection the broker closed instead of answering (e.g. acks=0 failures). */
  closedOnValid: number;
  /** Warnings the broker logged that are not failures, first few of each. */
  warnings: string[];
  /** Why the broker closed connections (numbers blanked out), most frequent first. */
  closeReasons: Array<[string, number]>;
  durationMs: number;
  brokerPid: number;
}

/** A case as a line to replay: its seed, what it is, and its bytes. */
export function describeCase(c: FuzzCase): string {
  const api = API_BY_KEY.get(c.apiKey)?.name ?? `api ${c.apiKey}`;
  return (
    `seed ${c.seed} (${api} v${c.version} built as ${c.builtAs}, mutation ${c.mutation}, expect ${c.expect}, ` +
    `correlation id ${c.correlationId}) bytes ${c.frame.toString('hex')}`
  );
}

interface Broker {
  child: ChildProcess;
  port: number;
  dataDir: string;
  exited: Promise<number | null>;
  exitCode: number | null | undefined;
  /** Lines at warn level or above, and what the broker printed before it was ready or after it died. */
  notable: string[];
  /** Why the broker closed connections, with numbers blanked out, and how often. */
  closeReasons: Map<string, number>;
}

/** Spawns `sluice start` with warn-level logs (every rejected request logs at info: millions of lines). */
async function startBroker(): Promise<Broker> {
  const dataDir = tempDir('sluice-fuzz-');
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'sluice.js'),
      'start',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'info',
      '--override',
      'auto.create.topics.enable=false',
      '--override',
      'log.segment.bytes=1048576',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const broker: Broker = {
    child,
    port: 0,
    dataDir,
    exitCode: undefined,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    notable: [],
    closeReasons: new Map(),
  };
  void broker.exited.then((code) => (broker.exitCode = code));
  const keep = (line: string) => {
    if (broker.notable.length < 10_000) broker.notable.push(line);
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const lines = createInterface({ input: child.stdout! });
  broker.port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start:\n${broker.notable.join('\n')}`)), 15_000);
    void broker.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited with ${code} before listening:\n${broker.notable.join('\n')}`));
    });
    lines.on('line', (line) => {
      const m = /listening on PLAINTEXT:\/\/[^:]+:(\d+)/.exec(line);
      if (m && broker.port === 0) {
        clearTimeout(timer);
        resolve(Number(m[1]));
        return;
      }
      // Info lines are the broker's account of every rejected request: they are counted by reason, and
      // only warnings and worse are kept.
      const reason = /"reason":"(.*?)(?<!\\)"/.exec(line);
      if (reason) {
        const key = reason[1].replace(/-?\d+/g, 'N').slice(0, 160);
        if (broker.closeReasons.has(key) || broker.closeReasons.size < 300)
          broker.closeReasons.set(key, (broker.closeReasons.get(key) ?? 0) + 1);
      }
      const level = /"level":(\d+)/.exec(line);
      if (!level || Number(level[1]) >= 40) keep(line);
    });
  });
  return broker;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

const METADATA_NONE = { ...MetadataApi.defaultRequest(), topics: [] };

/** Asks the broker what it serves and creates the topics the cases use. */
async function prepare(port: number): Promise<FuzzContext> {
  const c = await RawClient.connect(port);
  try {
    const versions = await c.request(ApiVersionsApi, 0, ApiVersionsApi.defaultRequest());
    const served: ServedRange[] = versions.apiKeys
      .filter((k) => API_BY_KEY.has(k.apiKey))
      .map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion }));
    const topic = (name: string, numPartitions: number, configs: Array<{ name: string; value: string }>) => ({
      name,
      numPartitions,
      replicationFactor: 1,
      assignments: [],
      configs,
    });
    await c.request(CreateTopicsApi, 4, {
      ...CreateTopicsApi.defaultRequest(),
      timeoutMs: 5000,
      topics: [
        topic('fuzz-a', 3, []),
        topic('fuzz-lat', 1, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]),
        topic('fuzz-compact', 1, [{ name: 'cleanup.policy', value: 'compact' }]),
      ],
    });
    const metadata = await c.request(MetadataApi, 10, {
      ...MetadataApi.defaultRequest(),
      topics: FUZZ_TOPICS.map((name) => ({ name, topicId: '00000000000000000000000000000000' })),
    });
    const topicIds = new Map(metadata.topics.map((t) => [t.name ?? '', t.topicId]));
    return { served, generate: served, topicIds, batches: await buildBatchTemplates() };
  } finally {
    c.close();
  }
}

const PROBE_CORRELATION_ID = -7;
/** APIs whose answers may legitimately wait for other members (a rebalance): unanswered is not a hang. */
const MAY_WAIT = new Set([11, 14]);

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const connections = options.connections ?? 6;
  const maxPipeline = options.pipeline ?? 4;
  const rssLimit = options.rssLimitMiB ?? 400;
  const canaryBound = options.canaryBoundMs ?? 2000;
  const answerTimeout = options.answerTimeoutMs ?? 10_000;

  const broker = await startBroker();
  const pid = broker.child.pid!;
  const ctx = await prepare(broker.port);
  if (options.apiKeys) ctx.generate = ctx.served.filter((s) => options.apiKeys?.includes(s.apiKey));
  const failures: FuzzFailure[] = [];
  const expectations: Record<string, number> = {};
  const inFlight = new Set<FuzzCase[]>();
  /** The cases sent on each client port, for tying a log line to its cases. */
  const byPort = new Map<number, FuzzCase[]>();
  let next = 0;
  let done = 0;
  let closedOnValid = 0;
  let stop = false;
  let maxRss = rssMiB(pid);
  let canaryMax = 0;
  let canaryRequests = 0;

  const fail = (kind: string, detail: string, cases: FuzzCase[] = []) => {
    if (failures.length < 50) failures.push({ kind, detail, cases });
    if (kind === 'crash' || kind === 'rss' || kind === 'canary') stop = true;
  };

  void broker.exited.then((code) => {
    if (stop && code !== null) return;
    fail('crash', `broker exited with ${code}`, [...inFlight].flat());
    stop = true;
  });

  const rssTimer = setInterval(() => {
    const rss = rssMiB(pid);
    maxRss = Math.max(maxRss, rss);
    if (rss > rssLimit) fail('rss', `broker RSS ${rss.toFixed(0)} MiB is over ${rssLimit} MiB`, [...inFlight].flat());
  }, 100);

  const canary = (async () => {
    let c = await RawClient.connect(broker.port);
    while (!stop) {
      const t0 = Date.now();
      try {
        await c.request(MetadataApi, 1, METADATA_NONE, { timeoutMs: canaryBound });
      } catch (err) {
        if (stop) break;
        fail('canary', `canary Metadata failed: ${(err as Error).message}`, [...inFlight].flat());
        break;
      }
      const ms = Date.now() - t0;
      canaryRequests++;
      canaryMax = Math.max(canaryMax, ms);
      if (ms > canaryBound) fail('canary', `canary Metadata took ${ms} ms`, [...inFlight].flat());
      await new Promise((r) => setTimeout(r, 25));
      if (c.isClosed) c = await RawClient.connect(broker.port);
    }
    c.close();
  })();

  const progressTimer = setInterval(() => {
    options.progress?.(
      `${done} cases, ${failures.length} failures, rss ${rssMiB(pid).toFixed(0)} MiB (max ${maxRss.toFixed(0)}), ` +
        `canary max ${canaryMax} ms, ${((done * 1000) / (Date.now() - started)).toFixed(0)} cases/s`,
    );
  }, 5000);

  const takeCase = (): FuzzCase | undefined => {
    if (stop || next >= options.cases) return undefined;
    const index = next++;
    const c = makeCase(ctx, caseSeed(options.seed, index), index);
    expectations[c.expect] = (expectations[c.expect] ?? 0) + 1;
    return c;
  };

  const remember = (port: number, cases: FuzzCase[]) => {
    byPort.set(port, cases);
    if (byPort.size > 20_000) byPort.delete(byPort.keys().next().value!);
  };

  const worker = async (w: number) => {
    const rnd = { n: caseSeed(options.seed ^ 0x5a5a, w) };
    const rand = (k: number) => {
      rnd.n = caseSeed(rnd.n, k);
      return rnd.n;
    };
    let client: RawClient | null = null;
    let carried: FuzzCase | undefined;
    while (!stop) {
      const pipeline: FuzzCase[] = [];
      while (pipeline.length < maxPipeline) {
        const c = carried ?? takeCase();
        carried = undefined;
        if (!c) break;
        // A lying size prefix ends its connection with a half-close: it goes alone.
        if (c.expect === 'framing' && pipeline.length > 0) {
          carried = c;
          break;
        }
        pipeline.push(c);
        if (c.expect === 'close' || c.expect === 'framing') break;
      }
      if (pipeline.length === 0) break;
      if (!client || client.isClosed) {
        try {
          client = await RawClient.connect(broker.port);
        } catch (err) {
          if (!stop) fail('connect', `cannot connect: ${(err as Error).message}`, pipeline);
          break;
        }
      }
      const conn: RawClient = client;
      remember(conn.localPort, pipeline);
      inFlight.add(pipeline);
      try {
        await runPipeline(conn, pipeline, rand);
      } finally {
        inFlight.delete(pipeline);
        done += pipeline.length;
      }
    }
    client?.close();
  };

  const runPipeline = async (conn: RawClient, pipeline: FuzzCase[], rand: (k: number) => number) => {
    const last = pipeline[pipeline.length - 1];
    const parts = pipeline.map((c) => c.frame);
    if (last.expect === 'answer-or-none') {
      // A request that may get no answer is followed by one that must: its answer shows the first had none.
      parts.push(
        Buffer.from(
          (() => {
            const b = Buffer.alloc(4 + 10);
            b.writeInt32BE(10, 0);
            b.writeInt16BE(18, 4);
            b.writeInt16BE(0, 6);
            b.writeInt32BE(PROBE_CORRELATION_ID, 8);
            b.writeInt16BE(-1, 12);
            return b;
          })(),
        ),
      );
    }
    const bytes = Buffer.concat(parts);
    // Mostly one write; sometimes the bytes are cut at random places, to exercise reassembly.
    if (rand(1) % 4 === 0 && bytes.length > 1) {
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + (rand(2) % Math.min(bytes.length - at, rand(3) % 2 === 0 ? 3 : 200));
        await conn.send(bytes.subarray(at, at + n));
        at += n;
      }
    } else {
      await conn.send(bytes);
    }

    if (last.expect === 'framing') {
      conn.socket.end();
      if (!(await conn.closesWithin(answerTimeout))) {
        fail('hang', 'the broker kept a connection open after a lying size prefix and the client half-close', pipeline);
      }
      conn.close();
      return;
    }

    let pending: Buffer | null = null;
    const nextFrame = async () => {
      if (pending) {
        const f = pending;
        pending = null;
        return f;
      }
      return conn.nextFrame(answerTimeout);
    };
    for (const c of pipeline) {
      if (c.expect === 'close') {
        const frame = await nextFrame();
        if (frame) {
          fail('answered', `answer (correlation id ${frame.readInt32BE(0)}) to a request that must close`, [c]);
          conn.close();
        } else if (!conn.isClosed) {
          fail('hang', `neither an answer nor a close within ${answerTimeout} ms`, [c]);
          conn.close();
        }
        return;
      }
      const frame = await nextFrame();
      if (!frame) {
        if (conn.isClosed) {
          closedOnValid++;
          if (process.env.FUZZ_DEBUG) console.log(`closed on valid: ${describeCase(c)} port ${conn.localPort}`);
        } else {
          if (!MAY_WAIT.has(c.apiKey)) fail('hang', `no answer within ${answerTimeout} ms`, [c]);
          conn.close();
        }
        return;
      }
      const correlationId = frame.readInt32BE(0);
      if (c.expect === 'answer-or-none' && correlationId !== c.correlationId) {
        pending = frame;
        continue;
      }
      if (correlationId !== c.correlationId) {
        fail('order', `expected the answer to correlation id ${c.correlationId}, got ${correlationId}`, pipeline);
        conn.close();
        return;
      }
      const problem = checkAnswer(c, frame);
      if (problem) {
        fail('bad-answer', problem, [c]);
        conn.close();
        return;
      }
    }
    if (pending || last.expect === 'answer-or-none') {
      const probe = await nextFrame();
      if (!probe && !conn.isClosed) fail('hang', 'no answer to the ApiVersions probe', pipeline);
      if (probe && probe.readInt32BE(0) !== PROBE_CORRELATION_ID) {
        fail('order', `expected the probe's answer, got correlation id ${probe.readInt32BE(0)}`, pipeline);
        conn.close();
      }
    }
  };

  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  stop = true;
  clearInterval(progressTimer);
  await canary;
  // Let the last samples and log lines arrive.
  await new Promise((r) => setTimeout(r, 200));
  clearInterval(rssTimer);

  let crashes = failures.filter((f) => f.kind === 'crash').length;
  if (broker.exitCode === undefined) {
    broker.child.kill('SIGTERM');
    const code = await broker.exited;
    if (code !== 0 && crashes === 0) {
      crashes++;
      failures.push({ kind: 'crash', detail: `broker exited with ${code} on SIGTERM`, cases: [] });
    }
  }
  const warnings: string[] = [];
  for (const line of broker.notable) {
    const m = /"conn":"[^"]*:(\d+)#/.exec(line);
    const cases = m ? (byPort.get(Number(m[1])) ?? []) : [];
    if (/broker bug|"level":[56]0/.test(line)) fail('broker-bug', line, cases);
    else if (warnings.length < 20) warnings.push(line);
  }
  removeDir(broker.dataDir);
  return {
    cases: done,
    crashes,
    failures,
    maxRssMiB: Math.round(maxRss),
    canaryRequests,
    canaryMaxMs: canaryMax,
    expectations,
    closedOnValid,
    warnings,
    closeReasons: [...broker.closeReasons].sort((a, b) => b[1] - a[1]),
    durationMs: Date.now() - started,
    brokerPid: pid,
  };
}

/** Whether an answer is what the case called for; a message if not. */
function checkAnswer(c: FuzzCase, frame: Buffer): string | undefined {
  const api = API_BY_KEY.get(c.apiKey)!;
  const r = new Reader(frame, 4);
  try {
    if (c.expect === 'unsupported') {
      const body = ApiVersionsApi.decodeResponse(r, 0);
      if (body.errorCode !== 35) return `ApiVersions v${c.version} answered with error ${body.errorCode}, not 35`;
    } else {
      const flexible = api.flexibleMinVersion >= 0 && c.version >= api.flexibleMinVersion && c.apiKey !== 18;
      if (flexible) r.taggedFields();
      api.decodeResponse(r, c.version);
    }
  } catch (err) {
    return `the answer does not decode as ${api.name} v${c.version}: ${(err as Error).message}`;
  }
  if (r.remaining() !== 0) return `the answer has ${r.remaining()} bytes after its end`;
  return undefined;
}

/** One line per failure, with the cases to replay. */
export function formatFailures(report: FuzzReport): string {
  return report.failures
    .map((f) => [`${f.kind}: ${f.detail}`, ...f.cases.slice(0, 8).map((c) => `  ${describeCase(c)}`)].join('\n'))
    .join('\n');
}

/**
 * Sends recorded frames (hex, size prefix included) one after another on one connection to a fresh broker
 * prepared like a fuzz run's, and describes what happened: the step from a printed failure to a regression test.
 */
export async function replay(framesHex: string[]): Promise<string[]> {
  const broker = await startBroker();
  const out: string[] = [];
  try {
    await prepare(broker.port);
    const c = await RawClient.connect(broker.port);
    for (const hex of framesHex) {
      await c.send(Buffer.from(hex, 'hex'));
      const frame = await c.nextFrame(3000);
      if (frame) out.push(`answer: ${frame.toString('hex')}`);
      else out.push(c.isClosed ? 'the broker closed the connection' : 'no answer within 3 s');
      if (c.isClosed) break;
    }
    c.close();
    await new Promise((r) => setTimeout(r, 200));
    for (const [reason, n] of broker.closeReasons) out.push(`broker closed ${n}x: ${reason}`);
    for (const line of broker.notable) out.push(`broker: ${line}`);
    if (broker.exitCode !== undefined) out.push(`broker exited with ${broker.exitCode}`);
  } finally {
    if (broker.exitCode === undefined) {
      broker.child.kill('SIGTERM');
      await broker.exited;
    }
    removeDir(broker.dataDir);
  }
  return out;
}

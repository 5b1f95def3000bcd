/**
 * `sluice perf produce` and `sluice perf consume` against an embedded broker: they run, report exactly
 * the counts asked for, and their summaries parse. No timing is asserted: speed is `npm run bench`'s job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { run } from '../../../src/cli/main.js';
import { Histogram } from '../../../src/cli/perf/histogram.js';
import type { PerfSummary } from '../../../src/cli/perf/stats.js';
import { type EmbeddedBroker, startBroker } from '../../../src/index.js';

/** Runs the `sluice` command in-process and returns its exit code and what it printed. */
async function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  try {
    const code = await run(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

function summaryOf(stdout: string): PerfSummary {
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as PerfSummary;
}

function assertWellFormed(s: PerfSummary): void {
  for (const v of [s.seconds, s.recordsPerSec, s.mbPerSec, s.bytes, s.requests]) {
    assert.ok(Number.isFinite(v) && v >= 0, `expected a figure, got ${v}`);
  }
  const l = s.latencyMs;
  assert.ok(l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max, JSON.stringify(l));
}

describe('sluice perf', () => {
  let kafka: EmbeddedBroker;
  before(async () => {
    kafka = await startBroker({ storage: 'disk' });
  });
  after(async () => {
    await kafka.stop();
  });

  /** `sluice perf <action> -b <the embedded broker> -t <topic> <flags…>`. */
  const perf = (action: 'produce' | 'consume', topic: string, ...flags: string[]) =>
    sluice('perf', action, '-b', kafka.bootstrap, '-t', topic, ...flags);

  test('produce sends exactly the records asked for and prints a JSON summary', async () => {
    const r = await perf(
      'produce',
      'perf-a',
      '-n',
      '5000',
      '-s',
      '200',
      '--batch-size',
      '16384',
      '--acks',
      '1',
      '--json',
      '-q',
    );
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.equal(s.kind, 'produce');
    assert.equal(s.records, 5000);
    assert.equal(s.bytes, 5000 * 200);
    assert.equal(s.requests, Math.ceil(5000 / s.batchRecords!));
    assert.equal(s.latencyMs.samples, s.requests);
    assertWellFormed(s);
  });

  test('consume reads them back, counted from the batch headers, with CRCs checked', async () => {
    const r = await perf('consume', 'perf-a', '-n', '5000', '--check-crcs', '--json', '-q');
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.equal(s.kind, 'consume');
    assert.equal(s.records, 5000);
    assertWellFormed(s);
  });

  test('consume stops at the count asked for, even inside a batch', async () => {
    const r = await perf('consume', 'perf-a', '-n', '1234', '-f', 'json', '-q');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(summaryOf(r.stdout).records, 1234);
  });

  test('acks=all, lz4, several partitions and a throughput limit: every record arrives', async () => {
    const r = await perf(
      'produce',
      'perf-b',
      '-n',
      '3000',
      '-s',
      '64',
      '-p',
      '3',
      '--acks',
      'all',
      '-z',
      'lz4',
      '--throughput',
      '30000',
      '--linger-ms',
      '2',
      '--max-in-flight',
      '2',
      '--json',
      '-q',
    );
    assert.equal(r.code, 0, r.stderr);
    const produced = summaryOf(r.stdout);
    assert.equal(produced.records, 3000);
    assert.equal(produced.batchRecords, 60); // 30000 records/s × 2 ms
    const c = await perf('consume', 'perf-b', '-n', '3000', '--json', '-q');
    assert.equal(c.code, 0, c.stderr);
    assert.equal(summaryOf(c.stdout).records, 3000);
  });

  test('acks=0 reports the records written and no latencies', async () => {
    const r = await perf('produce', 'perf-c', '-n', '2000', '--acks', '0', '--format', 'json', '-q');
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.equal(s.records, 2000);
    assert.equal(s.latencyMs.samples, 0);
  });

  test('a --format other than text or json is refused before any record is sent', async () => {
    const r = await perf('produce', 'perf-e', '-n', '10', '--format', 'yaml');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--format must be text or json/);
    assert.doesNotMatch(r.stdout, /records sent/);
  });

  test('the plain summary reads like Kafka perf-test output, with progress lines on stderr', async () => {
    const r = await perf('produce', 'perf-d', '-n', '20000', '--reporting-interval', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^20000 records sent in [\d.]+ s, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th\.$/,
    );
    const c = await perf('consume', 'perf-d', '-n', '20000');
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^20000 records consumed in /);
  });

  test('a missing --num-records is a usage error', async () => {
    const r = await perf('produce', 'perf-e');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--num-records is required/);
  });
});

describe('latency histogram', () => {
  test('percentiles are exact below 2048 µs and within 0.1 % above', () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    assert.equal(h.percentile(50), 500);
    assert.equal(h.percentile(99), 990);
    assert.equal(h.percentile(100), 1000);
    const big = new Histogram();
    big.record(1_234_567);
    const p = big.percentile(50);
    assert.ok(p >= 1_234_567 && p <= 1_234_567 * 1.001, String(p));
    assert.equal(big.max, 1_234_567);
  });
});

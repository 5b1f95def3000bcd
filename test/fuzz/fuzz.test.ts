/**
 * A short structure-aware fuzz run against a live broker process (long runs: fuzz-cli.ts). Valid requests
 * of every served API and version, mutated, over several pipelined connections: the broker must not
 * crash, stall the canary, grow past its memory bound or answer against the rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatFailures, runFuzz } from './harness.js';

test('20,000 mutated requests neither crash the broker nor stall other clients nor grow it past 400 MiB', async () => {
  const report = await runFuzz({ cases: 20_000, seed: 20240601, rssLimitMiB: 400, canaryBoundMs: 2000 });
  assert.equal(report.failures.length, 0, `fuzz failures (seed 20240601):\n${formatFailures(report)}`);
  assert.equal(report.crashes, 0);
  assert.ok(report.cases >= 20_000, `only ${report.cases} cases ran`);
  assert.ok(report.canaryRequests > 0, 'the canary was answered');
  assert.ok(report.maxRssMiB < 400, `broker RSS reached ${report.maxRssMiB} MiB`);
});

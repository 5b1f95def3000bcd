/**
 * Long fuzz runs: `node dist/test/fuzz/fuzz-cli.js --cases N [--seed S] [--connections C] [--apis 0,1,3]
 * [--verbose]`; `--replay HEX[,HEX...]` sends printed frames to a fresh broker and tells what happened.
 * Prints progress, then `N cases, K crashes`, and every failing case with its seed and bytes.
 * Exits 1 when anything failed.
 */
import { parseArgs } from 'node:util';
import { formatFailures, replay, runFuzz } from './harness.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    connections: { type: 'string', default: '6' },
    'rss-limit': { type: 'string', default: '400' },
    verbose: { type: 'boolean', default: false },
    apis: { type: 'string' },
    replay: { type: 'string' },
  },
  strict: true,
});
if (values.replay !== undefined) {
  for (const line of await replay(values.replay.split(','))) console.log(line);
  process.exit(0);
}
const seed = values.seed !== undefined ? Number(values.seed) >>> 0 : (Date.now() ^ process.pid) >>> 0;
const cases = Number(values.cases);
console.log(`fuzzing ${cases} cases with seed ${seed}`);
const report = await runFuzz({
  cases,
  seed,
  connections: Number(values.connections),
  rssLimitMiB: Number(values['rss-limit']),
  apiKeys: values.apis?.split(',').map(Number),
  progress: (line) => console.log(line),
});
console.log(
  `expectations ${JSON.stringify(report.expectations)}; ${report.closedOnValid} valid requests closed by the broker; ` +
    `max rss ${report.maxRssMiB} MiB; canary ${report.canaryRequests} requests, max ${report.canaryMaxMs} ms; ` +
    `${(report.durationMs / 1000).toFixed(1)} s`,
);
for (const w of report.warnings) console.log(`broker warning: ${w}`);
if (values.verbose) for (const [reason, n] of report.closeReasons) console.log(`closed ${n}x: ${reason}`);
if (report.failures.length > 0) console.log(formatFailures(report));
console.log(`${report.cases} cases, ${report.crashes} crashes, ${report.failures.length} failures (seed ${seed})`);
process.exit(report.failures.length === 0 ? 0 : 1);

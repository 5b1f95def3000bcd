/**
 * Long crash runs: `node dist/test/crash/crash-loop.js --cycles N [--partitions P] [--writers W]
 * [--idempotent-writers I | --no-idempotent] [--segment-bytes B] [--kill-min-ms A] [--kill-max-ms B]
 * [--kill-on-write F] [--groups | --no-groups] [--data-dir D] [--keep] [--quiet]`. Each cycle SIGKILLs a
 * broker while plain and idempotent writers produce with acks=all (and, with groups, while a group member
 * consumes and commits), restarts it, checks the log and the group against what was acknowledged, and the
 * idempotent writers resend what the kill left unanswered (see crash-cycles.ts, idempotent-writer.ts and
 * group-ledger.ts). Ends with `N cycles, M acknowledged records verified, D deduplicated retries,
 * C acknowledged commits verified, 0 lost, 0 duplicated (...)` and exit code 0, or the failure and 1.
 *
 * With `--compacted [--keys K] [--watch-share S]` the cycles run against a compacted topic whose cleaner
 * runs constantly, and some kills land the moment a `.cleaned` or `.swap` file appears (compaction-cycles.ts;
 * `--partitions` defaults to 2 there, `--kill-min-ms`/`--kill-max-ms` to 100/600). Ends with
 * `N cycles, K keys verified, X kills during cleaning (.cleaned Y, .swap Z), 0 lost (...)`.
 */
import { parseArgs } from 'node:util';
import { removeDir, tempDir } from '../helpers/broker-process.js';
import { runCompactionCycles } from './compaction-cycles.js';
import { runCrashCycles } from './crash-cycles.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    partitions: { type: 'string' },
    compacted: { type: 'boolean', default: false },
    keys: { type: 'string', default: '200' },
    'watch-share': { type: 'string', default: '0.5' },
    writers: { type: 'string', default: '2' },
    'idempotent-writers': { type: 'string', default: '2' },
    'no-idempotent': { type: 'boolean', default: false },
    'kill-on-write': { type: 'string', default: '0.5' },
    'segment-bytes': { type: 'string' },
    'kill-min-ms': { type: 'string' },
    'kill-max-ms': { type: 'string' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
    groups: { type: 'boolean', default: true },
    'no-groups': { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

const dataDir = values['data-dir'] ?? tempDir('sluice-crash-loop-');
const groups = values.groups && !values['no-groups'];
const started = Date.now();
const seconds = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

async function plain(): Promise<void> {
  const report = await runCrashCycles({
    dataDir,
    cycles: Number(values.cycles),
    partitions: Number(values.partitions ?? 4),
    writers: Number(values.writers),
    idempotentWriters: values['no-idempotent'] ? 0 : Number(values['idempotent-writers']),
    killOnWrite: Number(values['kill-on-write']),
    killAfterMs: [Number(values['kill-min-ms'] ?? 50), Number(values['kill-max-ms'] ?? 400)],
    killDuringStartEvery: 5,
    // Reading every partition from offset 0 each cycle grows quadratically; the tail is checked every cycle.
    fullCheckEvery: 10,
    overrides: values['segment-bytes'] ? { 'log.segment.bytes': Number(values['segment-bytes']) } : undefined,
    groups,
    log: values.quiet ? undefined : (line) => console.log(line),
  });
  const g = report.group;
  const i = report.producers;
  console.log(
    `${report.cycles} cycles, ${report.acknowledgedVerified} acknowledged records verified, ` +
      `${i ? `${i.deduplicatedRetries} deduplicated retries, ` : ''}` +
      `${g ? `${g.commitsVerified} acknowledged commits verified, ` : ''}${report.lost} lost, ` +
      `${report.duplicated} duplicated ` +
      `(${report.unacknowledgedKept} unacknowledged records kept, ${report.tornTails} torn tails cut, ` +
      `${report.writeKills} kills right after a write, ` +
      (i
        ? `${i.retriedBatches} retried batches (${i.appendedRetries} appended), ${i.sequencedRecords} ` +
          `idempotent records in sequence, ${i.producerIds} new producer ids, `
        : 'no idempotent writers, ') +
      `${report.startupKills} kills during recovery, ${report.totalRecords} records in the log, ` +
      (g
        ? `${g.unacknowledgedCommitsKept} unanswered commits kept, ${g.consumedVerified} consumed records ` +
          `still in the log, ${g.replayedVerified} records consumed again after ${g.rejoins} rejoins, `
        : 'no consumer group, ') +
      `${seconds()})`,
  );
}

async function compacted(): Promise<void> {
  const r = await runCompactionCycles({
    dataDir,
    cycles: Number(values.cycles),
    partitions: Number(values.partitions ?? 2),
    keys: Number(values.keys),
    writers: Number(values.writers),
    killAfterMs: [Number(values['kill-min-ms'] ?? 100), Number(values['kill-max-ms'] ?? 600)],
    killOnCleaning: Number(values['watch-share']),
    killDuringStartEvery: 5,
    segmentBytes: values['segment-bytes'] ? Number(values['segment-bytes']) : undefined,
    log: values.quiet ? undefined : (line) => console.log(line),
  });
  console.log(
    `${r.cycles} cycles, ${r.keysVerified} keys verified, ${r.killsDuringCleaning} kills during cleaning ` +
      `(.cleaned ${r.killsWithCleaned}, .swap ${r.killsWithSwap}), ${r.lost} lost ` +
      `(${r.acknowledged} acknowledged records, ${r.watchKills} kills on a cleaner file appearing, ` +
      `${r.startupKills} kills during recovery, ${r.recordsInLog} records in the log of ${r.appended} appended, ` +
      `${r.minRecordsInLog}..${r.maxRecordsInLog} at the checks, ${seconds()})`,
  );
}

let failed = false;
try {
  if (values.compacted) await compacted();
  else await plain();
} catch (err) {
  failed = true;
  console.error(`crash loop failed after ${seconds()}: ${(err as Error).stack}`);
  console.error(`data dir kept for inspection: ${dataDir}`);
} finally {
  if (!failed && !values.keep && !values['data-dir']) removeDir(dataDir);
}
process.exit(failed ? 1 : 0);

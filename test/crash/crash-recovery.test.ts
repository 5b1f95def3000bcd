/**
 * SIGKILL at random moments while acks=all produces run, then restart on the same data dir: every
 * acknowledged record survives exactly once and in order, and the log takes new writes (see crash-cycles.ts).
 * In the first test a consumer group member also consumes and commits: its committed offsets never move
 * back across a crash nor past the log end, and it rejoins and reads on from them (see group-ledger.ts).
 * In the third, idempotent producers resend what each kill left unanswered (see idempotent-writer.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, tempDir } from '../helpers/broker-process.js';
import { runCrashCycles } from './crash-cycles.js';

test('every acknowledged record and consumer group commit survives 20 random SIGKILLs', {
  timeout: 120_000,
}, async () => {
  const dataDir = tempDir('sluice-crash-');
  try {
    const report = await runCrashCycles({
      dataDir,
      cycles: 20,
      partitions: 4,
      writers: 2,
      killAfterMs: [50, 400],
      killDuringStartEvery: 5,
      groups: true,
    });
    assert.equal(report.cycles, 20);
    assert.equal(report.lost, 0);
    assert.ok(report.acknowledgedVerified > 0, 'some records were acknowledged');
    assert.equal(report.startupKills, 4);
    assert.ok(report.group, 'the cycles ran with a consumer group');
    assert.ok(report.group.commitsVerified >= 20, 'each cycle had at least one acknowledged commit');
    // A rejoin at the start, after each crash, and after the final clean restart.
    assert.equal(report.group.rejoins, 22);
    assert.ok(report.group.consumedVerified > 0, 'the member consumed while the writers produced');
  } finally {
    removeDir(dataDir);
  }
});

test('crashes while segments roll keep every acknowledged record', { timeout: 120_000 }, async () => {
  const dataDir = tempDir('sluice-crash-roll-');
  try {
    const report = await runCrashCycles({
      dataDir,
      cycles: 8,
      partitions: 3,
      writers: 2,
      killAfterMs: [50, 300],
      // Segments of 16 KiB roll every few hundred records, so kills land around rolls and index writes.
      overrides: { 'log.segment.bytes': 16384, 'log.index.interval.bytes': 512 },
      groups: false,
    });
    assert.equal(report.lost, 0);
    assert.ok(report.acknowledgedVerified > 0);
  } finally {
    removeDir(dataDir);
  }
});

test('idempotent producers retrying across 12 SIGKILLs leave every batch in the log exactly once', {
  timeout: 120_000,
}, async () => {
  const dataDir = tempDir('sluice-crash-idempotent-');
  try {
    const report = await runCrashCycles({
      dataDir,
      cycles: 12,
      partitions: 3,
      writers: 1,
      idempotentWriters: 2,
      killAfterMs: [50, 250],
      // Most kills follow a write at once, so batches are in the log but unanswered when the broker dies.
      killOnWrite: 0.75,
      groups: false,
    });
    assert.equal(report.cycles, 12);
    assert.equal(report.lost, 0);
    assert.equal(report.duplicated, 0);
    assert.ok(report.producers, 'the cycles ran with idempotent writers');
    assert.ok(report.producers.retriedBatches > 0, 'batches unanswered at a kill were sent again');
    assert.ok(report.producers.deduplicatedRetries > 0, 'some retried batches were already in the log');
    // The first id of each writer, then one after every restart (and one per change of id).
    assert.ok(report.producers.producerIds >= 14);
    assert.ok(report.producers.sequencedRecords > 0);
  } finally {
    removeDir(dataDir);
  }
});

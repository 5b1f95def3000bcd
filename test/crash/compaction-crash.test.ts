/**
 * SIGKILL a broker while its log cleaner compacts a topic under acks=all writers, some kills the moment a
 * `.cleaned` or `.swap` file appears: every key's latest acknowledged value survives, recovery leaves no
 * cleaner files, and the log still shrinks (see compaction-cycles.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDir, tempDir } from '../helpers/broker-process.js';
import { runCompactionCycles } from './compaction-cycles.js';

test('kills during log cleaning lose no key’s latest acknowledged value and leave no cleaner files', {
  timeout: 120_000,
}, async () => {
  const dataDir = tempDir('sluice-crash-compact-');
  try {
    const report = await runCompactionCycles({
      dataDir,
      cycles: 12,
      partitions: 2,
      keys: 200,
      writers: 2,
      killAfterMs: [100, 500],
      // Most kills wait for a cleaner file to appear and follow it at once.
      killOnCleaning: 0.75,
      killDuringStartEvery: 4,
    });
    assert.equal(report.cycles, 12);
    assert.equal(report.lost, 0);
    assert.equal(report.startupKills, 3);
    assert.ok(report.acknowledged > 0, 'some records were acknowledged');
    assert.ok(report.keysVerified >= 200, 'keys with an acknowledged value were checked after the crashes');
    assert.ok(report.killsDuringCleaning > 0, 'some kills left a .cleaned or .swap file behind');
    assert.ok(
      report.recordsInLog < report.appended,
      `compaction removed records: ${report.recordsInLog} of ${report.appended}`,
    );
  } finally {
    removeDir(dataDir);
  }
});

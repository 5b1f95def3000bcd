/** The JSON state files behind the topic registry and client quotas: absent reads, ordered atomic rewrites. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { JsonStateFile } from '../../../src/broker/json-state-file.js';
import { removeDir, tempDir } from '../../helpers/broker-process.js';

test('a file not written yet, or one without a directory, reads as nothing and a write without a directory is a no-op', async () => {
  const dir = tempDir();
  try {
    assert.equal(await new JsonStateFile<{ n: number }>(join(dir, 'not-yet'), 'state.json').read(), undefined);
    const memoryOnly = new JsonStateFile<{ n: number }>(null, 'state.json');
    await memoryOnly.write(() => ({ n: 1 }));
    assert.equal(await memoryOnly.read(), undefined);
  } finally {
    removeDir(dir);
  }
});

test('rewrites run one after another, the last asked for is what stays, and no temporary file is left', async () => {
  const dir = tempDir();
  try {
    const file = new JsonStateFile<{ n: number; pad: string }>(join(dir, 'meta'), 'state.json');
    let turn = 0;
    // Large enough that overlapping writes of the one temporary file would trip over each other.
    const pad = 'x'.repeat(1 << 20);
    const writes = Array.from({ length: 8 }, () => file.write(() => ({ n: ++turn, pad })));
    await Promise.all(writes);
    assert.equal((await file.read())?.n, 8);
    assert.deepEqual(readdirSync(join(dir, 'meta')), ['state.json']);
  } finally {
    removeDir(dir);
  }
});

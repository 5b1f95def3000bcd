import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FileCache } from '../../../src/storage/file-cache.js';
import { MemoryFs } from '../../../src/storage/memory-fs.js';
import { baseOffsets, batch, ENGINES, okRead, store, TestFs, TOPIC_ID } from './helpers.js';

for (const engine of ENGINES) {
  describe(`descriptor pool (${engine.name} engine)`, () => {
    const cleanups: Array<() => void> = [];
    after(() => {
      for (const c of cleanups) c();
    });

    it('keeps open descriptors within the bound with more partitions than the bound', async () => {
      const base = engine.setup();
      cleanups.push(base.cleanup);
      const fs = new TestFs(base.fs);
      const s = store(fs, base.logDir, { maxOpenFiles: 4 });
      await s.open();
      const logs = await Promise.all(
        Array.from({ length: 12 }, (_, p) => s.getOrCreate('many', p, { topicId: TOPIC_ID })),
      );
      await Promise.all(
        logs.flatMap((log) => [log.append(batch(2), { acks: -1 }), log.append(batch(1), { acks: -1 })]),
      );
      const reads = await Promise.all(logs.map((log) => log.read(0n, 1 << 20)));
      for (const r of reads) assert.deepEqual(baseOffsets(okRead(r).records), [0n, 2n]);
      assert.ok(s.openFiles.peak <= 4, `pool peak ${s.openFiles.peak}`);
      assert.ok(fs.peakOpen <= 4, `file system peak ${fs.peakOpen}`);
      await s.close();
      assert.equal(s.openFiles.open, 0);
    });
  });
}

describe('file cache', () => {
  it('does not close a descriptor in use until its user releases it', async () => {
    const fs = new MemoryFs();
    await fs.mkdir('/d');
    const cache = new FileCache(fs, 1);
    let release!: () => void;
    const held = cache.use('/d/a', () => new Promise<void>((resolve) => (release = resolve)), { create: true });
    let secondRan = false;
    const second = cache.use(
      '/d/b',
      async () => {
        secondRan = true;
      },
      { create: true },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(secondRan, false, 'the second file waits for a free descriptor');
    assert.equal(fs.openDescriptors, 1);
    release();
    await held;
    await second;
    assert.equal(secondRan, true);
    assert.equal(fs.openDescriptors, 1);
    await cache.closeAll();
    assert.equal(fs.openDescriptors, 0);
  });

  it('never opens a file it was not asked to create', async () => {
    const fs = new MemoryFs();
    await fs.mkdir('/d');
    const cache = new FileCache(fs, 2);
    await assert.rejects(
      cache.use('/d/missing', async () => {}),
      /ENOENT/,
    );
    await assert.rejects(fs.stat('/d/missing'), /ENOENT/);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ReadLease, ReadPool } from '../../../src/storage/read-pool.js';
import { batch, ENGINES, okAppend, okRead, store, TOPIC_ID } from './helpers.js';

/** Whether two buffers share any byte of memory. */
function overlap(a: Buffer, b: Buffer): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

describe('read pool', () => {
  it('reuses a slab once every region taken from it is released', () => {
    const pool = new ReadPool({ slabBytes: 1024, maxSlabs: 1 });
    const a = pool.lease();
    const first = a.alloc(600);
    a.release();
    const b = pool.lease();
    const second = b.alloc(600);
    assert.equal(second.buffer, first.buffer);
    assert.equal(second.byteOffset, first.byteOffset);
    b.release();
    assert.deepEqual(pool.stats, { slabs: 1, free: 0, currentHolders: 0 });
  });

  it('never lends memory another lease still holds: with every slab held, reads get memory of their own', () => {
    const pool = new ReadPool({ slabBytes: 1024, maxSlabs: 1 });
    const a = pool.lease();
    const b = pool.lease();
    const fromA = a.alloc(700).fill(0xaa);
    const fromB = b.alloc(700).fill(0xbb);
    assert.ok(!overlap(fromA, fromB));
    assert.notEqual(fromB.buffer, fromA.buffer, 'the only slab has 324 bytes left: B gets memory of its own');
    // Releasing B (unpooled) does not free A's slab.
    b.release();
    const c = pool.lease();
    const fromC = c.alloc(300).fill(0xcc);
    assert.ok(!overlap(fromA, fromC));
    assert.ok(fromA.every((x) => x === 0xaa));
    a.release();
    c.release();
  });

  it('gives back the unused end of the last region, and only of the last one', () => {
    const pool = new ReadPool({ slabBytes: 1024, maxSlabs: 1 });
    const lease = pool.lease();
    const window = lease.alloc(800);
    lease.shrink(window, 100);
    const next = lease.alloc(900);
    assert.equal(next.buffer, window.buffer, 'the 700 bytes given back serve the next region');
    assert.equal(next.byteOffset, window.byteOffset + 100);
    lease.shrink(window, 0);
    const other = pool.lease();
    assert.notEqual(other.alloc(100).buffer, window.buffer, 'a region that is not the last is not given back');
    lease.release();
    other.release();
  });

  it('fills a slab with the poison byte when it becomes free', () => {
    const pool = new ReadPool({ slabBytes: 256, maxSlabs: 1, poison: 0xee });
    const lease = pool.lease();
    const bytes = lease.alloc(100).fill(1);
    lease.release();
    assert.ok(bytes.every((x) => x === 0xee));
  });

  it('refuses memory from a released lease, and releasing twice gives back nothing twice', () => {
    const pool = new ReadPool({ slabBytes: 256, maxSlabs: 1 });
    const a = pool.lease();
    a.alloc(10);
    a.release();
    a.release();
    assert.throws(() => a.alloc(10), /released lease/);
    const b = pool.lease();
    const held = b.alloc(10);
    a.release();
    assert.equal(pool.stats.currentHolders, 1, 'b still holds its region');
    assert.notEqual(pool.lease().alloc(10).byteOffset, held.byteOffset);
    b.release();
  });

  it('keeps every held region intact through random takes, shrinks and releases over three small slabs', () => {
    const pool = new ReadPool({ slabBytes: 4096, maxSlabs: 3, poison: 0 });
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    const live: Array<{ lease: ReadLease; regions: Array<{ bytes: Buffer; tag: number }> }> = [];
    const filled = Array.from({ length: 256 }, (_, t) => Buffer.alloc(1500, t));
    let tag = 1;
    let pooled = 0;
    for (let step = 0; step < 20_000; step++) {
      // About three leases alive at a time, so the slabs are shared, filled, held and freed in every order.
      const op = random(20);
      if (op < 3 || live.length === 0) {
        live.push({ lease: pool.lease(), regions: [] });
      } else if (op < 12) {
        const holder = live[random(live.length)]!;
        const bytes = holder.lease.alloc(1 + random(1500));
        if (bytes.buffer.byteLength === 4096) pooled++;
        tag = (tag % 255) + 1;
        bytes.fill(tag);
        holder.regions.push({ bytes, tag });
      } else if (op < 15) {
        const holder = live[random(live.length)]!;
        const last = holder.regions.at(-1);
        if (last) {
          const keep = random(last.bytes.length + 1);
          holder.lease.shrink(last.bytes, keep);
          last.bytes = last.bytes.subarray(0, keep);
        }
      } else {
        const [holder] = live.splice(random(live.length), 1);
        holder!.lease.release();
      }
      for (const h of live) {
        for (const r of h.regions) {
          if (!r.bytes.equals(filled[r.tag]!.subarray(0, r.bytes.length))) {
            assert.fail(`a held region was overwritten at step ${step}`);
          }
        }
      }
    }
    for (const h of live) h.lease.release();
    assert.ok(pooled > 5000, `most regions came from the slabs (${pooled})`);
    assert.deepEqual(pool.stats, { slabs: 3, free: 2, currentHolders: 0 });
  });
});

for (const engine of ENGINES) {
  describe(`reads into pooled memory (${engine.name} engine)`, () => {
    it('return the same batches as a plain read, as a view of the lease, giving back what follows them', async () => {
      const base = engine.setup();
      try {
        const s = store(base.fs, base.logDir, { defaults: { indexIntervalBytes: 4096 } });
        await s.open();
        const log = await s.getOrCreate('orders', 0, { topicId: TOPIC_ID });
        for (let i = 0; i < 40; i++) okAppend(await log.append(batch(5, { valueBytes: 200 }), { acks: -1 }));
        const pool = new ReadPool({ slabBytes: 1 << 20, maxSlabs: 1 });
        for (const [offset, maxBytes] of [
          [0n, 1 << 20],
          [17n, 3000],
          [123n, 100],
          [199n, 1 << 20],
          [200n, 1 << 20],
        ] as const) {
          const plain = okRead(await log.read(offset, maxBytes));
          const lease = pool.lease();
          const pooled = okRead(await log.read(offset, maxBytes, { memory: lease }));
          assert.deepEqual(pooled.records, plain.records, `read at ${offset}`);
          if (pooled.records.length > 0) {
            // The next region starts right after the records: the rest of the window was given back.
            const next = lease.alloc(1);
            assert.equal(next.buffer, pooled.records.buffer);
            assert.equal(next.byteOffset, pooled.records.byteOffset + pooled.records.length);
          }
          lease.release();
        }
        await s.close();
      } finally {
        base.cleanup();
      }
    });
  });
}

/** The offset and time indexes on their own: entries, lookups, truncation and the batched file writes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from '../../../src/storage/offset-index.js';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from '../../../src/storage/time-index.js';

describe('offset index', () => {
  it('stores entries relative to the base offset in the .index layout and finds the last one at or below', () => {
    const index = new OffsetIndex(100n, 10);
    index.append(103n, 4096);
    index.append(110n, 8192);
    assert.equal(index.entries, 2);
    assert.equal(index.sizeInBytes, 2 * OFFSET_INDEX_ENTRY_SIZE);
    assert.deepEqual([...index.contents()], [0, 0, 0, 3, 0, 0, 16, 0, 0, 0, 0, 10, 0, 0, 32, 0]);
    assert.deepEqual(index.lookup(99n), { offset: 100n, position: 0 });
    assert.deepEqual(index.lookup(102n), { offset: 100n, position: 0 });
    assert.deepEqual(index.lookup(103n), { offset: 103n, position: 4096 });
    assert.deepEqual(index.lookup(109n), { offset: 103n, position: 4096 });
    assert.deepEqual(index.lookup(1000n), { offset: 110n, position: 8192 });
    assert.equal(index.lastOffset(), 110n);
  });

  it('refuses an entry that does not follow the last one', () => {
    const index = new OffsetIndex(0n, 10);
    index.append(5n, 100);
    assert.throws(() => index.append(5n, 200), /does not follow/);
    assert.throws(() => index.append(6n, 100), /does not follow/);
    assert.equal(index.entries, 1);
  });

  it('is full at maxEntries and grows its buffer past 64 entries', () => {
    const index = new OffsetIndex(0n, 100);
    for (let i = 1; i <= 100; i++) index.append(BigInt(i), i * 10);
    assert.ok(index.isFull);
    assert.equal(index.positionAt(99), 1000);
    assert.deepEqual(index.lookup(70n), { offset: 70n, position: 700 });
  });

  it('loads whole entries from file bytes and ignores a torn tail', () => {
    const written = new OffsetIndex(0n, 10);
    written.append(1n, 10);
    written.append(2n, 20);
    const loaded = new OffsetIndex(0n, 10, Buffer.concat([written.contents(), Buffer.from([0, 0, 0])]));
    assert.equal(loaded.entries, 2);
    assert.equal(loaded.fileEntries, 2);
    assert.deepEqual(loaded.lookup(2n), { offset: 2n, position: 20 });
    loaded.append(3n, 30);
    assert.equal(loaded.entries, 3);
    const empty = new OffsetIndex(0n, 10, Buffer.alloc(0));
    empty.append(1n, 10);
    assert.equal(empty.lastOffset(), 1n);
  });

  it('hands out only unwritten entries, and a write that raced a truncation does not count', () => {
    const index = new OffsetIndex(0n, 10);
    index.append(1n, 10);
    index.append(2n, 20);
    const first = index.pending();
    assert.equal(first.position, 0);
    assert.equal(first.bytes.length, 2 * OFFSET_INDEX_ENTRY_SIZE);
    index.markWritten(first.upTo, first.version);
    assert.equal(index.fileEntries, 2);
    index.append(3n, 30);
    const second = index.pending();
    assert.equal(second.position, 2 * OFFSET_INDEX_ENTRY_SIZE);
    assert.equal(second.bytes.length, OFFSET_INDEX_ENTRY_SIZE);
    index.truncateToPosition(20);
    assert.equal(index.entries, 1);
    assert.equal(index.fileEntries, 1);
    index.markWritten(second.upTo, second.version);
    assert.equal(index.fileEntries, 1, 'the stale write is not claimed');
    index.truncateToEntries(5);
    assert.equal(index.entries, 1, 'truncating to more entries than there are changes nothing');
  });

  it('names what is wrong with entries that cannot be trusted', () => {
    const index = new OffsetIndex(0n, 10);
    index.append(1n, 10);
    index.append(2n, 20);
    assert.equal(index.problem(100, 16), null);
    assert.equal(index.problem(100, 15), 'size 15 is not a multiple of 8');
    assert.equal(index.problem(20, 16), "entry 1 points at position 20, beyond the log's 20 bytes");
    const zeros = new OffsetIndex(0n, 10, Buffer.alloc(16));
    assert.equal(zeros.problem(100, 16), 'entry 0 does not follow entry -1');
  });
});

describe('time index', () => {
  it('stores (timestamp, relative offset) in the .timeindex layout and adds only rising timestamps', () => {
    const index = new TimeIndex(100n, 10);
    index.maybeAppend(-1n, 100n);
    index.maybeAppend(1000n, 101n);
    index.maybeAppend(1000n, 102n);
    index.maybeAppend(900n, 103n);
    index.maybeAppend(2000n, 100n);
    index.maybeAppend(2000n, 105n);
    assert.equal(index.entries, 2);
    assert.equal(index.sizeInBytes, 2 * TIME_INDEX_ENTRY_SIZE);
    assert.deepEqual(
      [...index.contents()],
      [0, 0, 0, 0, 0, 0, 3, 232, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 208, 0, 0, 0, 5],
    );
    assert.deepEqual(index.lastEntry(), { timestamp: 2000n, offset: 105n });
    assert.equal(index.lookup(999n), 100n);
    assert.equal(index.lookup(1000n), 101n);
    assert.equal(index.lookup(1999n), 101n);
    assert.equal(index.lookup(5000n), 105n);
  });

  it('is full at maxEntries, grows past 64 entries and loads whole entries from file bytes', () => {
    const index = new TimeIndex(0n, 100);
    for (let i = 1; i <= 100; i++) index.maybeAppend(BigInt(i * 1000), BigInt(i));
    assert.ok(index.isFull);
    assert.equal(index.lookup(70_500n), 70n);
    const loaded = new TimeIndex(0n, 100, Buffer.concat([index.contents(), Buffer.from([1, 2])]));
    assert.equal(loaded.entries, 100);
    assert.equal(loaded.fileEntries, 100);
    assert.equal(loaded.lookup(70_500n), 70n);
    assert.equal(loaded.pending().bytes.length, 0);
    assert.equal(new TimeIndex(0n, 10, Buffer.alloc(0)).lastEntry(), null);
  });

  it('drops entries at or above a cut offset, and a write that raced the cut does not count', () => {
    const index = new TimeIndex(0n, 10);
    index.maybeAppend(10n, 1n);
    index.maybeAppend(20n, 2n);
    index.maybeAppend(30n, 3n);
    const pending = index.pending();
    assert.equal(pending.position, 0);
    assert.equal(pending.bytes.length, 3 * TIME_INDEX_ENTRY_SIZE);
    index.truncateToOffset(2n);
    assert.equal(index.entries, 1);
    index.markWritten(pending.upTo, pending.version);
    assert.equal(index.fileEntries, 0, 'the stale write is not claimed');
    const again = index.pending();
    index.markWritten(again.upTo, again.version);
    assert.equal(index.fileEntries, 1);
    const version = index.version;
    index.truncateToOffset(5n);
    assert.equal(index.version, version, 'a cut above every entry changes nothing');
  });

  it('names what is wrong with entries that cannot be trusted', () => {
    const index = new TimeIndex(10n, 10);
    index.maybeAppend(10n, 11n);
    index.maybeAppend(20n, 12n);
    assert.equal(index.problem(null, 24), null);
    assert.equal(index.problem(13n, 24), null);
    assert.equal(index.problem(13n, 25), 'size 25 is not a multiple of 12');
    assert.equal(index.problem(12n, 24), "entry 1 names offset 12, beyond the segment's end 12");
    const bytes = Buffer.from(index.contents());
    bytes.writeBigInt64BE(5n, 12);
    assert.equal(new TimeIndex(10n, 10, bytes).problem(null, 24), 'entry 1 does not follow entry 0');
  });
});

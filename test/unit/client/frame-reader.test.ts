/** Cutting a response byte stream into size-prefixed frames, however the socket splits it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader } from '../../../src/client/frame-reader.js';

function framed(...bodies: string[]): Buffer {
  return Buffer.concat(
    bodies.map((body) => {
      const b = Buffer.alloc(4 + body.length);
      b.writeInt32BE(body.length, 0);
      b.write(body, 4);
      return b;
    }),
  );
}

function drain(reader: FrameReader): string[] {
  const out: string[] = [];
  for (let frame = reader.next(); frame !== null; frame = reader.next()) out.push(frame.toString());
  return out;
}

test('several frames in one chunk come out one by one, as views of that chunk', () => {
  const reader = new FrameReader();
  const chunk = framed('abcd', 'efghij');
  reader.push(chunk);
  const first = reader.next();
  assert.equal(first?.toString(), 'abcd');
  assert.equal(first?.buffer, chunk.buffer, 'no copy');
  assert.deepEqual(drain(reader), ['efghij']);
  assert.equal(reader.next(), null);
});

test('a stream split at every byte gives the same frames', () => {
  const reader = new FrameReader();
  const bytes = framed('abcd', 'efghijkl', 'mnop');
  const out: string[] = [];
  for (const byte of bytes) {
    reader.push(Buffer.from([byte]));
    out.push(...drain(reader));
  }
  assert.deepEqual(out, ['abcd', 'efghijkl', 'mnop']);
  assert.equal(reader.invalidSize, null);
});

test('a size below 4 (no room for a correlation id) stops the reader for good', () => {
  const reader = new FrameReader();
  reader.push(Buffer.concat([framed('abcd'), Buffer.from([0, 0, 0, 3]), framed('efgh')]));
  assert.deepEqual(drain(reader), ['abcd']);
  assert.equal(reader.invalidSize, 3);
  reader.push(framed('ijkl'));
  assert.equal(reader.next(), null);
});

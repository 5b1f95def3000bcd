/**
 * Cuts the bytes a broker sends into Kafka's response frames: a 4-byte size, then that many bytes. Used by
 * the client's `Connection` and by the load generators' `RequestPipe`, which then match each frame to its
 * request by correlation id, each in its own way.
 *
 * A frame that arrived in one chunk is handed out as a view of that chunk (no copy); one spread over
 * several chunks is copied together once.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private frameSize = -1;
  /** The size prefix that made the stream unreadable (below 4, too short for a correlation id), or null. */
  invalidSize: number | null = null;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next whole frame, without its size prefix, or null until more bytes arrive. Null for good once
   * `invalidSize` is set: the caller closes the connection.
   */
  next(): Buffer | null {
    if (this.invalidSize !== null) return null;
    if (this.frameSize < 0) {
      if (this.buffered < 4) return null;
      const size = this.take(4).readInt32BE(0);
      if (size < 4) {
        this.invalidSize = size;
        return null;
      }
      this.frameSize = size;
    }
    if (this.buffered < this.frameSize) return null;
    const frame = this.take(this.frameSize);
    this.frameSize = -1;
    return frame;
  }

  /** Removes the first `n` buffered bytes: a view when they lie in one chunk, else a copy. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, k);
        filled += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}

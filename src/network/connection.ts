/**
 * One client connection: int32 size-prefixed frames in, responses out in request order.
 *
 * Kafka clients pipeline requests and match responses by correlation id, but they also rely on the broker
 * answering in the order requests arrived on a connection. Each frame therefore takes a slot in a queue;
 * a handler may finish out of order (a long-polling fetch behind a quick metadata request), and a slot is
 * written only when every slot before it has been written. A handler that answers nothing (acks=0 produce)
 * releases its slot without a write.
 *
 * Backpressure: the connection stops reading the socket while `maxQueuedRequests` requests are unanswered,
 * or while the socket's write buffer is full (the client is not reading its responses).
 */
import type { Socket } from 'node:net';

export interface RequestContext {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerName: string;
  /** Free-form per-connection state owned by the request handler (e.g. SASL state, client software name). */
  readonly state: Map<string, unknown>;
  /** Closes this connection (after logging `reason`). */
  close(reason: string): void;
}

/**
 * Handles one request frame (without its size prefix) and returns the whole response frame, its int32 size
 * prefix included, or null when the request gets no response. Throwing a `ConnectionViolation` closes the
 * connection.
 */
export type FrameHandler = (frame: Buffer, ctx: RequestContext) => Promise<Buffer | null> | Buffer | null;

/** A client broke the protocol in a way that ends its connection (Kafka closes the socket too). */
export class ConnectionViolation extends Error {
  override name = 'ConnectionViolation';
}

export interface ConnectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ConnectionOptions {
  maxRequestBytes: number;
  maxQueuedRequests: number;
  idleTimeoutMs: number;
}

interface Slot {
  done: boolean;
  response: Buffer | null;
}

const SIZE_PREFIX = 4;

export class Connection {
  readonly ctx: RequestContext;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly slots: Slot[] = [];
  private closed = false;
  private writeBlocked = false;
  private pausedForQueue = false;
  private lastActivity = Date.now();

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    listenerName: string,
    private readonly handler: FrameHandler,
    private readonly options: ConnectionOptions,
    private readonly logger: ConnectionLogger,
    private readonly onClose: (conn: Connection) => void,
  ) {
    this.ctx = {
      connectionId: id,
      remoteAddress: socket.remoteAddress ?? '?',
      remotePort: socket.remotePort ?? 0,
      listenerName,
      state: new Map(),
      close: (reason) => this.close(reason),
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => {
      this.writeBlocked = false;
      this.updateFlow();
    });
    socket.on('error', (err) => this.logger.debug({ conn: this.describe(), err: err.message }, 'connection error'));
    socket.on('close', () => this.finish());
  }

  describe(): string {
    return `${this.ctx.remoteAddress}:${this.ctx.remotePort}#${this.id}`;
  }

  get queuedRequests(): number {
    return this.slots.length;
  }

  idleFor(now: number): number {
    return this.slots.length > 0 ? 0 : now - this.lastActivity;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.logger.info({ conn: this.describe(), reason }, 'closing connection');
    this.closed = true;
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    this.closed = true;
    this.chunks.length = 0;
    this.buffered = 0;
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drainFrames();
  }

  /** Cuts every complete frame out of the buffered bytes and starts handling it. */
  private drainFrames(): void {
    while (!this.closed && this.buffered >= SIZE_PREFIX) {
      if (this.pausedForQueue) return;
      const size = this.peekSize();
      if (size < 0 || size > this.options.maxRequestBytes) {
        this.close(
          `request size ${size} is outside 0..${this.options.maxRequestBytes} (socket.request.max.bytes); ` +
            'the client sent a corrupt frame or a request larger than the broker accepts',
        );
        return;
      }
      if (this.buffered < SIZE_PREFIX + size) return;
      const frame = this.take(SIZE_PREFIX + size).subarray(SIZE_PREFIX);
      this.dispatch(frame);
      if (this.slots.length >= this.options.maxQueuedRequests) {
        this.pausedForQueue = true;
        this.updateFlow();
      }
    }
  }

  private peekSize(): number {
    const first = this.chunks[0];
    if (first.length >= SIZE_PREFIX) return first.readInt32BE(0);
    return this.take(SIZE_PREFIX, true).readInt32BE(0);
  }

  /** Removes `n` bytes from the front of the buffered chunks; a frame inside one chunk is sliced, not copied. */
  private take(n: number, peek = false): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) {
      if (peek) return first;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i];
      const want = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, want);
      filled += want;
      if (!peek) {
        if (want === c.length) {
          this.chunks.shift();
          continue;
        }
        this.chunks[i] = c.subarray(want);
      }
      i++;
    }
    if (!peek) this.buffered -= n;
    return out;
  }

  private dispatch(frame: Buffer): void {
    const slot: Slot = { done: false, response: null };
    this.slots.push(slot);
    let result: Promise<Buffer | null> | Buffer | null;
    try {
      result = this.handler(frame, this.ctx);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.complete(slot, response),
        (err) => this.fail(err),
      );
    } else {
      this.complete(slot, result);
    }
  }

  private fail(err: unknown): void {
    if (err instanceof ConnectionViolation) {
      this.close(err.message);
    } else {
      this.logger.warn(
        { conn: this.describe(), err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        'request handler failed; closing the connection (this is a broker bug: please report it)',
      );
      this.close('internal error while handling a request');
    }
  }

  private complete(slot: Slot, response: Buffer | null): void {
    if (this.closed) return;
    slot.done = true;
    slot.response = response;
    while (this.slots.length > 0 && this.slots[0].done) {
      const head = this.slots.shift()!;
      if (head.response !== null) this.write(head.response);
    }
    this.lastActivity = Date.now();
    if (this.pausedForQueue && this.slots.length < this.options.maxQueuedRequests) {
      this.pausedForQueue = false;
      this.updateFlow();
      this.drainFrames();
    }
  }

  private write(frame: Buffer): void {
    const ok = this.socket.write(frame);
    if (!ok && !this.writeBlocked) {
      this.writeBlocked = true;
      this.updateFlow();
    }
  }

  private updateFlow(): void {
    if (this.closed) return;
    if (this.writeBlocked || this.pausedForQueue) this.socket.pause();
    else this.socket.resume();
  }
}

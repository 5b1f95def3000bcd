/**
 * One client connection: int32 size-prefixed frames in, responses out in request order.
 *
 * Kafka clients pipeline requests and match responses by correlation id, but they also rely on the broker
 * answering in the order requests arrived on a connection. Each frame therefore takes a slot in a queue;
 * a handler may finish out of order (a long-polling fetch behind a quick metadata request), and a slot is
 * written only when every slot before it has been written. A handler that answers nothing (acks=0 produce)
 * releases its slot without a write.
 *
 * Backpressure: the connection stops reading the socket, and stops handling frames it has already read,
 * while `maxQueuedRequests` requests are unanswered or while the socket's write buffer is full (the client
 * is not reading its responses).
 *
 * A protocol violation (a bad size prefix, a request that does not decode) ends the connection, but, as in
 * Kafka (which reads a connection's next request only after answering the previous one), the requests that
 * arrived before it are answered first: nothing more is read, the earlier answers are written, then the
 * connection is closed.
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
  /** Set when this request broke the protocol: the connection ends when this slot's turn comes. */
  violation?: string;
}

const SIZE_PREFIX = 4;
/** Longest the answers before a violation may take before the connection is closed without them. */
const VIOLATION_GRACE_MS = 10_000;
/** Longest a closing connection waits for the client to read its last answers. */
const LINGER_MS = 5_000;

export class Connection {
  readonly ctx: RequestContext;
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private readonly slots: Slot[] = [];
  private closed = false;
  private writeBlocked = false;
  private pausedForQueue = false;
  /** A violation was seen: nothing more is read, and the connection ends after the answers before it. */
  private rejecting = false;
  private graceTimer: NodeJS.Timeout | undefined;
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
      this.drainFrames();
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
    if (!this.rejecting) this.logger.info({ conn: this.describe(), reason }, 'closing connection');
    this.closed = true;
    this.socket.destroy();
    this.finish();
  }

  /**
   * Ends the connection because of `slot`'s request (or, without a slot, because of the bytes after the
   * last frame): reads nothing more, and closes once every request before it has been answered.
   */
  private reject(reason: string, slot?: Slot): void {
    if (this.closed) return;
    if (!this.rejecting) {
      this.rejecting = true;
      this.logger.info({ conn: this.describe(), reason }, 'closing connection');
      this.chunks.length = 0;
      this.buffered = 0;
      this.updateFlow();
      this.graceTimer = setTimeout(() => this.close(reason), VIOLATION_GRACE_MS);
      this.graceTimer.unref();
    }
    if (slot) {
      slot.violation = reason;
      this.complete(slot, null);
    } else {
      this.slots.push({ done: true, response: null, violation: reason });
      this.flush();
    }
  }

  /** Closes after the answers written so far have left (or after LINGER_MS, if the client does not read them). */
  private endAfterWrites(): void {
    this.closed = true;
    clearTimeout(this.graceTimer);
    this.socket.end();
    // Read (and drop) whatever still comes, so the client's own close is noticed and the socket freed at once.
    this.socket.resume();
    const linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
    linger.unref();
    this.socket.once('close', () => clearTimeout(linger));
  }

  private finish(): void {
    if (!this.closed && this.buffered > 0) {
      // The client went away with a request half sent: say how much of it arrived, to tell a crashed or
      // killed client (or one whose frames lie about their size) from a clean disconnect.
      const progress =
        this.buffered >= SIZE_PREFIX
          ? `${this.buffered - SIZE_PREFIX} of ${this.peekSize()} bytes received`
          : `${this.buffered} of the ${SIZE_PREFIX} bytes of its size prefix received`;
      this.logger.info(
        { conn: this.describe() },
        `client closed the connection in the middle of a request (${progress})`,
      );
    }
    this.closed = true;
    clearTimeout(this.graceTimer);
    this.chunks.length = 0;
    this.buffered = 0;
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed || this.rejecting) return;
    this.lastActivity = Date.now();
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drainFrames();
  }

  /** Cuts every complete frame out of the buffered bytes and starts handling it. */
  private drainFrames(): void {
    while (!this.closed && !this.rejecting && this.buffered >= SIZE_PREFIX) {
      // Frames already read stay unhandled while the client is not reading its responses: answering them
      // would only grow the socket's write buffer.
      if (this.pausedForQueue || this.writeBlocked) return;
      const size = this.peekSize();
      if (size < 0 || size > this.options.maxRequestBytes) {
        this.reject(
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
      this.fail(slot, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.complete(slot, response),
        (err) => this.fail(slot, err),
      );
    } else {
      this.complete(slot, result);
    }
  }

  private fail(slot: Slot, err: unknown): void {
    if (err instanceof ConnectionViolation) {
      this.reject(err.message, slot);
    } else {
      this.logger.warn(
        { conn: this.describe(), err: err instanceof Error ? (err.stack ?? err.message) : String(err) },
        'request handler failed; closing the connection (this is a broker bug: please report it)',
      );
      this.reject('internal error while handling a request', slot);
    }
  }

  private complete(slot: Slot, response: Buffer | null): void {
    if (this.closed) return;
    slot.done = true;
    slot.response = response;
    this.flush();
  }

  /** Writes the answers at the head of the queue that are ready, in order; ends the connection at a violation. */
  private flush(): void {
    while (this.slots.length > 0 && this.slots[0].done) {
      const head = this.slots.shift()!;
      if (head.violation !== undefined) {
        this.slots.length = 0;
        this.endAfterWrites();
        return;
      }
      if (head.response !== null) this.write(head.response);
    }
    if (this.closed || this.rejecting) return;
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
    if (this.writeBlocked || this.pausedForQueue || this.rejecting) this.socket.pause();
    else this.socket.resume();
  }
}

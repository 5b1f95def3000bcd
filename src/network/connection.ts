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
 *
 * Cost per byte (the produce and fetch hot path): a frame that arrives whole in one socket read is kept as
 * a view of that read's buffer, and only a frame split across reads is copied together; responses that
 * become ready together, and the parts of a response given as several buffers, leave in one vectored write.
 */
import type { Socket } from 'node:net';
import { ANONYMOUS, type ConnectionSecurity } from './principal.js';

export interface RequestContext {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerName: string;
  /** Free-form per-connection state owned by the request handler (e.g. SASL state, client software name). */
  readonly state: Map<string, unknown>;
  /**
   * The listener's security protocol and who the client is (the principal an authorizer checks). Absent
   * outside a connection (handlers called directly): PLAINTEXT and ANONYMOUS then.
   */
  readonly security?: ConnectionSecurity;
  /** Closes this connection (after logging `reason`). */
  close(reason: string): void;
  /**
   * Aborted when the connection closes. A request that waits (a Fetch long poll, an acks=all Produce) stops
   * waiting then: nobody is left to read its answer, and its timer must not keep a stopping broker alive.
   */
  readonly signal?: AbortSignal;
  /**
   * Closes this connection once this request's response (if any) and those before it are written: a
   * failed SASL authentication is answered, then the connection ends. Absent outside a connection.
   */
  closeAfterResponse?(reason: string): void;
  /**
   * Runs `fn` once the bytes of this request's response are no longer needed: the socket write carrying
   * them completed (or failed), or the response was dropped unwritten (no response, connection closed).
   * Never before the handler returned. A handler whose response refers to memory it lends (a Fetch's
   * pooled reads) gives that memory back here. Absent outside a connection (handlers called directly).
   */
  afterResponse?(fn: () => void): void;
  /**
   * Stops reading and handling this connection's requests for `ms` (a client over its quota, KIP-219);
   * responses still go out. A longer mute extends a shorter one. Absent outside a connection.
   */
  mute?(ms: number): void;
}

/**
 * A whole response frame, its int32 size prefix included: one buffer, or several written back to back (a
 * Fetch response whose records are not copied into it). The prefix counts the bytes of every part.
 */
export type ResponseFrame = Buffer | readonly Buffer[];

/**
 * Handles one request frame (without its size prefix) and returns the response frame, or null when the
 * request gets no response. Throwing a `ConnectionViolation` closes the connection.
 */
export type FrameHandler = (frame: Buffer, ctx: RequestContext) => Promise<ResponseFrame | null> | ResponseFrame | null;

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
  response: ResponseFrame | null;
  /** Set when this request broke the protocol: the connection ends when this slot's turn comes. */
  violation?: string;
  /** The request's `afterResponse` callbacks, until they run. */
  afterResponse?: Array<() => void>;
  /** Set when the connection ends once this slot's response is written. */
  closeAfter?: string;
}

/** Runs a slot's `afterResponse` callbacks, once. */
function settle(slot: Slot): void {
  const callbacks = slot.afterResponse;
  if (callbacks === undefined) return;
  slot.afterResponse = undefined;
  for (const fn of callbacks) fn();
}

/** The context of one request: its connection's, plus `afterResponse` tied to this request's slot. */
class RequestScope implements RequestContext {
  readonly connectionId: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerName: string;
  readonly state: Map<string, unknown>;
  readonly signal?: AbortSignal;
  readonly security: ConnectionSecurity | undefined;

  constructor(
    private readonly connection: RequestContext,
    private readonly slot: Slot,
  ) {
    this.connectionId = connection.connectionId;
    this.remoteAddress = connection.remoteAddress;
    this.remotePort = connection.remotePort;
    this.listenerName = connection.listenerName;
    this.state = connection.state;
    this.signal = connection.signal;
    this.security = connection.security;
  }

  close(reason: string): void {
    this.connection.close(reason);
  }

  mute(ms: number): void {
    this.connection.mute?.(ms);
  }

  closeAfterResponse(reason: string): void {
    this.slot.closeAfter = reason;
  }

  afterResponse(fn: () => void): void {
    (this.slot.afterResponse ??= []).push(fn);
  }
}

const SIZE_PREFIX = 4;
/** Longest the answers before a violation may take before the connection is closed without them. */
const VIOLATION_GRACE_MS = 10_000;
/** Longest a closing connection waits for the client to read its last answers. */
const LINGER_MS = 5_000;
/**
 * Frames up to this size get their whole buffer as soon as their size prefix arrives. A larger frame keeps
 * its bytes as they come and is joined when complete, so a size prefix alone (up to socket.request.max.bytes)
 * does not make the broker allocate that much for a client that may never send the rest.
 */
const PREALLOCATE_MAX = 1024 * 1024;

export class Connection {
  readonly ctx: RequestContext;
  /**
   * Whole frames read and not yet handled (held while the client is not reading its answers), or, last,
   * the reason the bytes after the last frame cannot be one.
   */
  private readonly ready: (Buffer | string)[] = [];
  /** The bytes of a size prefix that came split across reads, and how many of its 4 bytes have come. */
  private sizeSoFar = 0;
  private sizeFill = 0;
  /** Size of the frame being read, or -1 between frames. */
  private frameSize = -1;
  private frameFill = 0;
  /** The frame being read: its buffer, or (above PREALLOCATE_MAX) the pieces of it read so far. */
  private frame: Buffer | null = null;
  private framePieces: Buffer[] | null = null;
  /** A size prefix was refused: the bytes after it are dropped. */
  private unframed = false;
  private readonly slots: Slot[] = [];
  private closed = false;
  private writeBlocked = false;
  private pausedForQueue = false;
  /** Muted by a quota until `mutedUntil` (ms since the epoch). */
  private muted = false;
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | undefined;
  /** A violation was seen: nothing more is read, and the connection ends after the answers before it. */
  private rejecting = false;
  private graceTimer: NodeJS.Timeout | undefined;
  private lastActivity = Date.now();
  private readonly closing = new AbortController();
  /** The socket is corked until the next tick, gathering responses into one write. */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    listenerName: string,
    private readonly handler: FrameHandler,
    private readonly options: ConnectionOptions,
    private readonly logger: ConnectionLogger,
    private readonly onClose: (conn: Connection) => void,
    security: ConnectionSecurity = { securityProtocol: 'PLAINTEXT', principal: ANONYMOUS, sasl: null },
  ) {
    this.ctx = {
      connectionId: id,
      remoteAddress: socket.remoteAddress ?? '?',
      remotePort: socket.remotePort ?? 0,
      listenerName,
      state: new Map(),
      security,
      close: (reason) => this.close(reason),
      signal: this.closing.signal,
      mute: (ms) => this.mute(ms),
    };
    socket.setNoDelay(true);
    const onRead = (bytes: Buffer) => this.onRead(bytes);
    socket.on('data', onRead);
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
    return this.slots.length > 0 || this.muted ? 0 : now - this.lastActivity;
  }

  /** Reads and handles nothing more for `ms`; see RequestContext.mute. */
  mute(ms: number): void {
    const until = Date.now() + ms;
    if (this.closed || ms <= 0 || until <= this.mutedUntil) return;
    this.mutedUntil = until;
    this.muted = true;
    this.updateFlow();
    clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muted = false;
      this.updateFlow();
      this.drainFrames();
    }, ms);
  }

  close(reason: string): void {
    if (this.closed) {
      // Ending after its last answers (endAfterWrites) and asked to close now (the broker stops): do not
      // wait for the client's side of the close, which an unref'd socket may never be woken for.
      if (!this.socket.destroyed) this.socket.destroy();
      return;
    }
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
      this.dropReadState();
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
    if (!this.closed && (this.frameSize >= 0 || this.sizeFill > 0)) {
      // The client went away with a request half sent: say how much of it arrived, to tell a crashed or
      // killed client (or one whose frames lie about their size) from a clean disconnect.
      const progress =
        this.frameSize >= 0
          ? `${this.frameFill} of ${this.frameSize} bytes received`
          : `${this.sizeFill} of the ${SIZE_PREFIX} bytes of its size prefix received`;
      this.logger.info(
        { conn: this.describe() },
        `client closed the connection in the middle of a request (${progress})`,
      );
    }
    this.closed = true;
    clearTimeout(this.graceTimer);
    clearTimeout(this.muteTimer);
    this.dropReadState();
    this.closing.abort();
    // Answers ready but never written; those still being handled settle when they finish.
    for (const slot of this.slots) if (slot.done) settle(slot);
    this.onClose(this);
  }

  private dropReadState(): void {
    this.ready.length = 0;
    this.sizeFill = 0;
    this.sizeSoFar = 0;
    this.frameSize = -1;
    this.frame = null;
    this.framePieces = null;
  }

  /**
   * Cuts the bytes of one socket read into frames, then handles the frames completed. Node gives each read
   * a buffer of its own (no `onread` buffer is shared between reads), so a frame that lies whole in one
   * read is kept as a view of it; only a frame split across reads is copied together.
   */
  private onRead(bytes: Buffer): void {
    if (this.closed || this.rejecting || this.unframed) return;
    this.lastActivity = Date.now();
    const end = bytes.length;
    let pos = 0;
    while (pos < end) {
      if (this.frameSize < 0) {
        let size: number;
        if (this.sizeFill === 0 && end - pos >= SIZE_PREFIX) {
          size = bytes.readInt32BE(pos);
          pos += SIZE_PREFIX;
        } else {
          while (this.sizeFill < SIZE_PREFIX && pos < end) {
            this.sizeSoFar = (this.sizeSoFar << 8) | bytes[pos++];
            this.sizeFill++;
          }
          if (this.sizeFill < SIZE_PREFIX) break;
          size = this.sizeSoFar;
          this.sizeFill = 0;
          this.sizeSoFar = 0;
        }
        if (size < 0 || size > this.options.maxRequestBytes) {
          this.unframed = true;
          this.ready.push(
            `request size ${size} is outside 0..${this.options.maxRequestBytes} (socket.request.max.bytes); ` +
              'the client sent a corrupt frame or a request larger than the broker accepts',
          );
          break;
        }
        if (end - pos >= size) {
          // The whole frame is in this read: keep a view of it (each read's buffer is its own).
          this.ready.push(bytes.subarray(pos, pos + size));
          pos += size;
          continue;
        }
        this.frameSize = size;
        this.frameFill = 0;
        if (size <= PREALLOCATE_MAX) this.frame = Buffer.allocUnsafe(size);
        else this.framePieces = [];
      }
      const n = Math.min(this.frameSize - this.frameFill, end - pos);
      if (this.frame !== null) bytes.copy(this.frame, this.frameFill, pos, pos + n);
      else if (n > 0) this.framePieces!.push(Buffer.from(bytes.subarray(pos, pos + n)));
      this.frameFill += n;
      pos += n;
      if (this.frameFill === this.frameSize) {
        this.ready.push(this.frame ?? Buffer.concat(this.framePieces!, this.frameSize));
        this.frame = null;
        this.framePieces = null;
        this.frameSize = -1;
      }
    }
    this.drainFrames();
  }

  /** Starts handling the frames read, in order, while the connection may take more requests. */
  private drainFrames(): void {
    while (!this.closed && !this.rejecting && this.ready.length > 0) {
      // Frames already read stay unhandled while the client is not reading its responses: answering them
      // would only grow the socket's write buffer.
      if (this.pausedForQueue || this.writeBlocked || this.muted) return;
      const next = this.ready.shift()!;
      if (typeof next === 'string') {
        this.reject(next);
        return;
      }
      this.dispatch(next);
      if (this.slots.length >= this.options.maxQueuedRequests) {
        this.pausedForQueue = true;
        this.updateFlow();
      }
    }
  }

  private dispatch(frame: Buffer): void {
    const slot: Slot = { done: false, response: null };
    this.slots.push(slot);
    let result: Promise<ResponseFrame | null> | ResponseFrame | null;
    try {
      result = this.handler(frame, new RequestScope(this.ctx, slot));
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

  private complete(slot: Slot, response: ResponseFrame | null): void {
    if (this.closed) {
      // The response is dropped unwritten.
      settle(slot);
      return;
    }
    slot.done = true;
    slot.response = response;
    this.flush();
  }

  /** Writes the answers at the head of the queue that are ready, in order; ends the connection at a violation. */
  private flush(): void {
    while (this.slots.length > 0 && this.slots[0].done) {
      const head = this.slots.shift()!;
      if (head.violation !== undefined) {
        // The answers after the violation are dropped: those still being handled settle when they finish.
        for (const slot of this.slots) if (slot.done) settle(slot);
        this.slots.length = 0;
        settle(head);
        this.endAfterWrites();
        return;
      }
      if (head.response !== null) this.write(head.response, head);
      else settle(head);
      if (head.closeAfter !== undefined) {
        // Nothing after this answer is read or answered; it leaves, then the connection ends.
        this.logger.info({ conn: this.describe(), reason: head.closeAfter }, 'closing connection');
        this.rejecting = true;
        this.dropReadState();
        for (const slot of this.slots) if (slot.done) settle(slot);
        this.slots.length = 0;
        this.endAfterWrites();
        return;
      }
    }
    if (this.closed || this.rejecting) return;
    this.lastActivity = Date.now();
    if (this.pausedForQueue && this.slots.length < this.options.maxQueuedRequests) {
      this.pausedForQueue = false;
      this.updateFlow();
      this.drainFrames();
    }
  }

  /**
   * Queues a response on the corked socket. Every response that becomes ready before the current batch of
   * callbacks and promise reactions ends (the parts of one frame, answers finishing together) leaves in
   * one vectored write when the socket is uncorked on the next tick, instead of a system call each.
   */
  private write(frame: ResponseFrame, slot: Slot): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    // Writes complete in order: the callback of a frame's last part means every part has left.
    const written = slot.afterResponse === undefined ? undefined : () => settle(slot);
    let ok: boolean;
    if (Buffer.isBuffer(frame)) ok = this.socket.write(frame, written);
    else {
      ok = true;
      const last = frame.length - 1;
      for (let i = 0; i <= last; i++) ok = this.socket.write(frame[i], i === last ? written : undefined);
      if (last < 0) written?.();
    }
    if (!ok && !this.writeBlocked) {
      this.writeBlocked = true;
      this.updateFlow();
    }
  }

  private updateFlow(): void {
    if (this.closed) return;
    if (this.writeBlocked || this.pausedForQueue || this.rejecting || this.muted) this.socket.pause();
    else this.socket.resume();
  }
}

/**
 * A small raw Kafka protocol client for tests that need to send exactly the bytes they choose: requests
 * encoded with the generated codecs (request header v1, or v2 for flexible versions), hand-made frames,
 * or garbage. Responses are read as int32 size-prefixed frames, in arrival order.
 */
import { connect, type Socket } from 'node:net';
import type { ApiDescriptor } from '../../src/protocol/api.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/generated/index.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

export interface FrameOptions {
  correlationId?: number;
  clientId?: string | null;
}

/** A whole request frame: int32 size, request header, body. */
export function encodeRequestFrame<Req>(
  api: ApiDescriptor<Req, unknown>,
  version: number,
  request: Req,
  options: FrameOptions = {},
): Buffer {
  const w = new Writer(256);
  const sizeAt = w.reserveInt32();
  w.int16(api.apiKey);
  w.int16(version);
  w.int32(options.correlationId ?? 1);
  const headerVersion = requestHeaderVersion(api.apiKey, version);
  if (headerVersion >= 1) w.nullableString(options.clientId === undefined ? 'raw-client' : options.clientId);
  if (headerVersion >= 2) w.uvarint(0);
  api.encodeRequest(w, version, request);
  w.patchSize(sizeAt);
  return Buffer.from(w.toBuffer());
}

/** A frame from header fields and a body given as bytes: for requests no codec would write. */
export function rawRequestFrame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const clientId = Buffer.from('raw-client');
  const out = Buffer.alloc(4 + 8 + 2 + clientId.length + body.length);
  out.writeInt32BE(out.length - 4, 0);
  out.writeInt16BE(apiKey, 4);
  out.writeInt16BE(version, 6);
  out.writeInt32BE(correlationId, 8);
  out.writeInt16BE(clientId.length, 12);
  clientId.copy(out, 14);
  body.copy(out, 14 + clientId.length);
  return out;
}

/** Decodes a response frame (without its size prefix) of `api` at `version`. */
export function decodeResponseFrame<Res>(
  api: ApiDescriptor<unknown, Res>,
  version: number,
  frame: Buffer,
): { correlationId: number; body: Res } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  if (responseHeaderVersion(api.apiKey, version) >= 1) r.taggedFields();
  return { correlationId, body: api.decodeResponse(r, version) };
}

export class RawClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly frames: Buffer[] = [];
  private waiter: (() => void) | undefined;
  private nextCorrelationId = 1;
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  isClosed = false;
  /** The client's port, kept because a destroyed socket forgets it: the broker's log names connections by it. */
  readonly localPort: number;

  private constructor(readonly socket: Socket) {
    this.localPort = socket.localPort ?? 0;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4) {
        const size = this.buffered.readInt32BE(0);
        if (this.buffered.length < 4 + size) break;
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Connects to the broker; `localAddress` picks the client's address (127.0.0.2 is another loopback IP). */
  static connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, localAddress, noDelay: true }, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Writes raw bytes; resolves once they are handed to the OS (or the socket is gone). */
  send(bytes: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.write(bytes, () => resolve());
    });
  }

  /** Sends a request encoded with the generated codec; returns the correlation id used. */
  sendRequest<Req>(
    api: ApiDescriptor<Req, unknown>,
    version: number,
    request: Req,
    options: FrameOptions = {},
  ): number {
    const correlationId = options.correlationId ?? this.nextCorrelationId++;
    this.socket.write(encodeRequestFrame(api, version, request, { ...options, correlationId }));
    return correlationId;
  }

  /** The next response frame (without its size prefix), or null if the connection closes first or time runs out. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.isClosed) return null;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Sends a request and decodes the next response frame as its answer; throws if none comes. */
  async request<Req, Res>(
    api: ApiDescriptor<Req, Res>,
    version: number,
    request: Req,
    options: FrameOptions & { timeoutMs?: number } = {},
  ): Promise<Res> {
    const correlationId = this.sendRequest(api, version, request, options);
    const frame = await this.nextFrame(options.timeoutMs ?? 5000);
    if (!frame)
      throw new Error(`no answer to ${api.name} v${version} (connection ${this.isClosed ? 'closed' : 'silent'})`);
    const decoded = decodeResponseFrame(api as ApiDescriptor<unknown, Res>, version, frame);
    if (decoded.correlationId !== correlationId) {
      throw new Error(`expected correlation id ${correlationId}, got ${decoded.correlationId}`);
    }
    return decoded.body;
  }

  /** Resolves true if the connection closes within `timeoutMs`. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }
}

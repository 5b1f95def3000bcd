/**
 * A bare pipelined connection for the load generators: requests go out as pre-encoded bytes, responses
 * come back as frames, matched in order. The client library's Connection encodes every request afresh
 * (copying a produce request's batches into a new frame each time); here a request is encoded once into a
 * template and every send writes a fresh 12-byte prefix (size, api key, version, correlation id) followed
 * by the same template bytes, which are never modified, so one template may sit in the socket's queue many
 * times at once. Writes made in the same tick leave in one writev.
 *
 * Version negotiation (ApiVersions) is done beforehand by the client library; this pipe only carries bytes.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { FrameReader } from '../../client/frame-reader.js';
import type { ApiDescriptor } from '../../protocol/api.js';
import { encodeRequestHeader } from '../../protocol/generated/request-header.js';
import { requestHeaderVersion, responseHeaderVersion } from '../../protocol/generated/version-table.js';
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';

/** size (4) + api key (2) + api version (2) + correlation id (4). */
const PREFIX_BYTES = 12;

/** One request, encoded once: everything after the correlation id (client id, header tags, body). */
export interface RequestTemplate {
  apiKey: number;
  apiVersion: number;
  tail: Buffer;
}

/** Called with a reader positioned at the response body (after the response header). */
export type ResponseHandler = (body: Reader) => void;

export function encodeTemplate<Req>(
  api: ApiDescriptor<Req, unknown>,
  version: number,
  clientId: string,
  request: Req,
  sizeHint = 256,
): RequestTemplate {
  const w = new Writer(sizeHint + 64);
  encodeRequestHeader(w, requestHeaderVersion(api.apiKey, version), {
    requestApiKey: api.apiKey,
    requestApiVersion: version,
    correlationId: 0,
    clientId,
  });
  api.encodeRequest(w, version, request);
  // The header's first 8 bytes (key, version, correlation id) are written per send.
  return { apiKey: api.apiKey, apiVersion: version, tail: Buffer.from(w.toBuffer().subarray(8)) };
}

interface Pending {
  correlationId: number;
  skipHeaderTags: boolean;
  onResponse: ResponseHandler;
}

export class RequestPipe {
  private correlationId = 0;
  /** Responses arrive in request order (Kafka's rule); a ring would do, an array shift is cheap enough here. */
  private readonly pending: Pending[] = [];
  private pendingHead = 0;
  private readonly frames = new FrameReader();
  private corked = false;
  private failure: Error | null = null;
  private readonly failListeners: Array<(err: Error) => void> = [];

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new Error(`${address}: ${err.message}`)));
    socket.on('close', () => this.fail(new Error(`${address}: connection closed by the broker`)));
  }

  static open(host: string, port: number, timeoutMs = 10_000): Promise<RequestPipe> {
    const address = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`cannot connect to ${address} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new RequestPipe(socket, address));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot connect to ${address}: ${err.message}`));
      });
    });
  }

  get inFlight(): number {
    return this.pending.length - this.pendingHead;
  }

  get error(): Error | null {
    return this.failure;
  }

  /** Called once when the connection fails or closes; pending requests are then never answered. */
  onFail(listener: (err: Error) => void): void {
    this.failListeners.push(listener);
  }

  /** Sends a request whose response goes to `onResponse`. */
  send(template: RequestTemplate, onResponse: ResponseHandler): void {
    const correlationId = this.write(template);
    this.pending.push({
      correlationId,
      skipHeaderTags: responseHeaderVersion(template.apiKey, template.apiVersion) >= 1,
      onResponse,
    });
  }

  /**
   * Sends a request that gets no response (acks=0 produce). Returns false when the socket's buffer is
   * full: wait for `drained()` before sending more.
   */
  sendWithoutResponse(template: RequestTemplate): boolean {
    this.write(template);
    return this.socket.writableLength < this.socket.writableHighWaterMark;
  }

  /** Resolves when the socket's write buffer has been handed to the kernel. */
  drained(): Promise<void> {
    if (this.socket.writableLength === 0 && !this.corked) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.socket.writableLength === 0 || this.failure) resolve();
        else this.socket.once('drain', check);
      };
      if (this.corked) process.nextTick(check);
      else this.socket.once('drain', check);
    });
  }

  close(): void {
    this.fail(new Error(`${this.address}: connection closed`));
  }

  private write(template: RequestTemplate): number {
    if (this.failure) throw this.failure;
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    const prefix = Buffer.allocUnsafe(PREFIX_BYTES);
    prefix.writeInt32BE(PREFIX_BYTES - 4 + template.tail.length, 0);
    prefix.writeInt16BE(template.apiKey, 4);
    prefix.writeInt16BE(template.apiVersion, 6);
    prefix.writeInt32BE(this.correlationId, 8);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(prefix);
    this.socket.write(template.tail);
    return this.correlationId;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.socket.destroy();
    this.pending.length = 0;
    this.pendingHead = 0;
    for (const listener of this.failListeners) listener(err);
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
      this.onFrame(frame);
      if (this.failure) return;
    }
    if (this.frames.invalidSize !== null) {
      this.fail(new Error(`${this.address}: invalid response size ${this.frames.invalidSize}`));
    }
  }

  private onFrame(frame: Buffer): void {
    const p = this.pending[this.pendingHead];
    const correlationId = frame.readInt32BE(0);
    if (!p || p.correlationId !== correlationId) {
      this.fail(new Error(`${this.address}: response with unexpected correlation id ${correlationId}`));
      return;
    }
    this.pendingHead++;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
    const reader = new Reader(frame, 4);
    if (p.skipHeaderTags) reader.taggedFields();
    try {
      p.onResponse(reader);
    } catch (err) {
      this.fail(err as Error);
    }
  }
}

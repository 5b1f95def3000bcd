/**
 * One TCP connection to one broker: size-prefixed frames, request headers, correlation ids, many requests
 * in flight at once (pipelining), a timeout per request, and the ApiVersions handshake that fixes the
 * version of each API this connection will use.
 *
 * Kafka answers the requests of one connection in order, but responses are still matched by correlation
 * id, so a broker that answers out of order works too. A request that times out closes the connection:
 * its answer may still come, and the connection's state is no longer known.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ApiDescriptor } from '../protocol/api.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiVersionsApi } from '../protocol/generated/18-api-versions.js';
import { ApiKey } from '../protocol/generated/api-keys.js';
import { encodeRequestHeader } from '../protocol/generated/request-header.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/generated/version-table.js';
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import { ConnectionError, KafkaError, RequestTimeoutError } from './errors.js';
import { FrameReader } from './frame-reader.js';
import { CLIENT_VERSIONS, negotiateVersions } from './versions.js';

export const CLIENT_SOFTWARE_NAME = 'sluice';
export const CLIENT_SOFTWARE_VERSION = '0.1.0';

export interface ConnectionOptions {
  host: string;
  port: number;
  clientId?: string;
  /** Time to open the TCP connection and finish the ApiVersions handshake. Default 10 s. */
  connectTimeoutMs?: number;
  /** Default time a request may take; `send` can override it. Default 30 s. */
  requestTimeoutMs?: number;
}

export interface SendOptions {
  /** Overrides the negotiated version. */
  version?: number;
  timeoutMs?: number;
}

interface Pending {
  decode(r: Reader): unknown;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
  apiName: string;
}

export class Connection {
  /** The version of each API both sides know, from the ApiVersions handshake. */
  versions = new Map<number, number>();
  /** The broker's own ranges, as it advertised them. */
  brokerRanges: Array<{ apiKey: number; minVersion: number; maxVersion: number }> = [];
  readonly address: string;
  private correlationId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly frames = new FrameReader();
  private closedError: Error | null = null;
  private readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  private constructor(
    private readonly socket: Socket,
    options: ConnectionOptions,
  ) {
    this.address = `${options.host}:${options.port}`;
    this.clientId = options.clientId ?? CLIENT_SOFTWARE_NAME;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new ConnectionError(describeSocketError(this.address, err))),
    );
    socket.on('close', () => this.fail(new ConnectionError(`${this.address}: connection closed by the broker`)));
  }

  /** Opens a connection and negotiates API versions. */
  static async connect(options: ConnectionOptions): Promise<Connection> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const address = `${options.host}:${options.port}`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ConnectionError(`${address}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ConnectionError(describeSocketError(address, err)));
      });
    });
    socket.setNoDelay(true);
    const connection = new Connection(socket, options);
    try {
      await connection.handshake(timeoutMs);
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  }

  /**
   * ApiVersions v3 first; a broker that does not know v3 answers in the v0 format with
   * UNSUPPORTED_VERSION and its ranges (KIP-511), and the request is repeated with a version it knows.
   */
  private async handshake(timeoutMs: number): Promise<void> {
    const request = {
      clientSoftwareName: CLIENT_SOFTWARE_NAME,
      clientSoftwareVersion: CLIENT_SOFTWARE_VERSION,
    };
    let response = await this.send(ApiVersionsApi, request, { version: 3, timeoutMs });
    if (response.errorCode === ErrorCode.UNSUPPORTED_VERSION) {
      const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.API_VERSIONS);
      const version = Math.min(theirs?.maxVersion ?? 0, 2);
      response = await this.send(ApiVersionsApi, request, { version, timeoutMs });
    }
    if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode, 'ApiVersions failed');
    this.brokerRanges = response.apiKeys.map((k) => ({
      apiKey: k.apiKey,
      minVersion: k.minVersion,
      maxVersion: k.maxVersion,
    }));
    this.versions = negotiateVersions(this.brokerRanges, CLIENT_VERSIONS);
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the broker serves this API at a version the client speaks. */
  supports(api: { apiKey: number }): boolean {
    return this.versions.has(api.apiKey);
  }

  /** The negotiated version of `api`; throws UNSUPPORTED_VERSION when there is none. */
  version(api: { apiKey: number; name: string }): number {
    const v = this.versions.get(api.apiKey);
    if (v === undefined) {
      const theirs = this.brokerRanges.find((r) => r.apiKey === api.apiKey);
      const ours = CLIENT_VERSIONS.get(api.apiKey);
      throw new KafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `${this.address} ${theirs ? `serves ${api.name} v${theirs.minVersion}-v${theirs.maxVersion}` : `does not serve ${api.name}`}` +
          (ours ? `; this client speaks v${ours.minVersion}-v${ours.maxVersion}` : ''),
      );
    }
    return v;
  }

  onClose(listener: (err: Error) => void): void {
    this.closeListeners.push(listener);
  }

  /** Sends a request and resolves with its decoded response. */
  send<Req, Res>(api: ApiDescriptor<Req, Res>, request: Req, options: SendOptions = {}): Promise<Res> {
    if (this.closedError) return Promise.reject(this.closedError);
    const version = options.version ?? this.version(api);
    const correlationId = this.nextCorrelationId();
    const frame = this.encode(api, version, correlationId, request);
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        const err = new RequestTimeoutError(`${this.address}: ${api.name} got no answer within ${timeoutMs} ms`);
        reject(err);
        this.fail(err);
      }, timeoutMs);
      this.pending.set(correlationId, {
        decode: (r) => decodeBody(api, version, r),
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        apiName: api.name,
      });
      this.socket.write(frame);
    });
  }

  /**
   * Sends a request that gets no response (Produce with acks=0). Resolves once the bytes are handed to
   * the socket, or when the socket's buffer has drained if it was full.
   */
  sendWithoutResponse<Req>(api: ApiDescriptor<Req, unknown>, request: Req, options: SendOptions = {}): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    const version = options.version ?? this.version(api);
    const frame = this.encode(api, version, this.nextCorrelationId(), request);
    if (this.socket.write(frame)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.socket.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.socket.off('drain', onDrain);
        reject(this.closedError ?? new ConnectionError(`${this.address}: connection closed`));
      };
      this.socket.once('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  close(): void {
    this.fail(new ConnectionError(`${this.address}: connection closed`));
  }

  private nextCorrelationId(): number {
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    return this.correlationId;
  }

  private encode<Req>(api: ApiDescriptor<Req, unknown>, version: number, correlationId: number, request: Req): Buffer {
    const w = new Writer(estimateSize(request));
    const sizeAt = w.reserveInt32();
    encodeRequestHeader(w, requestHeaderVersion(api.apiKey, version), {
      requestApiKey: api.apiKey,
      requestApiVersion: version,
      correlationId,
      clientId: this.clientId,
    });
    api.encodeRequest(w, version, request);
    w.patchSize(sizeAt);
    return w.toBuffer();
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const listener of this.closeListeners) listener(err);
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let frame = this.frames.next(); frame !== null; frame = this.frames.next()) {
      this.onFrame(frame);
      if (this.closedError) return;
    }
    if (this.frames.invalidSize !== null) {
      this.fail(new ConnectionError(`${this.address}: invalid response size ${this.frames.invalidSize}`));
    }
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (!p) {
      this.fail(new ConnectionError(`${this.address}: response with unknown correlation id ${correlationId}`));
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    let value: unknown;
    try {
      value = p.decode(new Reader(frame, 4));
    } catch (err) {
      const failure = new ConnectionError(
        `${this.address}: malformed ${p.apiName} response: ${(err as Error).message}`,
      );
      p.reject(failure);
      this.fail(failure);
      return;
    }
    p.resolve(value);
  }
}

function decodeBody<Res>(api: ApiDescriptor<unknown, Res>, version: number, r: Reader): Res {
  if (api.apiKey === ApiKey.API_VERSIONS) {
    // An UNSUPPORTED_VERSION answer to ApiVersions is always in the v0 format (KIP-511).
    if (r.buf.readInt16BE(r.offset) === ErrorCode.UNSUPPORTED_VERSION) return api.decodeResponse(r, 0);
    return api.decodeResponse(r, version);
  }
  if (responseHeaderVersion(api.apiKey, version) >= 1) r.taggedFields();
  return api.decodeResponse(r, version);
}

/** A first guess of a request's size, so a produce request with big batches is written without regrowing. */
function estimateSize(request: unknown): number {
  const topicData = (request as { topicData?: Array<{ partitionData: Array<{ records: Buffer | null }> }> }).topicData;
  if (!Array.isArray(topicData)) return 512;
  let size = 512;
  for (const t of topicData) for (const p of t.partitionData) size += 64 + (p.records?.length ?? 0);
  return size;
}

function describeSocketError(address: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${address}: connection refused (is a broker running there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${address}: unknown host`;
    case 'ECONNRESET':
      return `${address}: connection reset by the broker`;
    case 'ETIMEDOUT':
      return `cannot connect to ${address}: timed out`;
    default:
      return `${address}: ${err.message}`;
  }
}

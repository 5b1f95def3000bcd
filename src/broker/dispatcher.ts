/**
 * Turns a request frame into a response frame: decode the request header, find the handler, check the
 * version, decode the body with the generated codec, run the handler, encode the response.
 *
 * A handler (and its codec) is loaded on its API's first request (see registry.ts). Every request that
 * arrives while a handler loads waits for it, whatever its API, so requests still run in the order they
 * arrived; once loaded, a request pays two null checks for this.
 *
 * Kafka's rules for bad requests, which clients rely on:
 * - ApiVersions with a version the broker does not know is answered with UNSUPPORTED_VERSION in the v0
 *   format, listing the broker's ranges, so the client can retry with a version both sides know.
 * - Any other unknown api key or unsupported version, or a body that does not decode, closes the connection.
 * - Bytes left in the frame after the body's last field are ignored.
 */
import { ConnectionViolation, type RequestContext, type ResponseFrame } from '../network/connection.js';
import type { SaslServerAuthenticator } from '../network/sasl/authenticator.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { requestHeaderVersion, responseHeaderVersion } from '../protocol/generated/version-table.js';
import { DecodeError, Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';
import type { FaultInjector } from './fault-injector.js';
import { setErrorCodes } from './fault-injector.js';
import type { BrokerServices } from './handler-context.js';
import type { EncodedResponse } from './quotas/client-quotas.js';
import type { HandlerContext, HandlerDefinition, HandlerRegistry, RequestHeaderInfo, ServedApi } from './registry.js';

const API_VERSIONS_KEY = 18;
/**
 * Most array elements one request may hold, in all its arrays. Far above what clients send (a fetch of
 * every partition of a 100,000-partition cluster), low enough that decoding one request stays within tens
 * of megabytes and a fraction of a second: socket.request.max.bytes alone would let a 100 MiB request of
 * 2-byte elements take gigabytes.
 */
export const MAX_REQUEST_ELEMENTS = 1_000_000;
/**
 * Byte fields (a Fetch response's records) at least this large go to the socket as buffers of their own,
 * in one vectored write with the bytes around them, instead of being copied into the response.
 */
const SHARE_BYTES_FROM = 8192;

/** What the dispatcher needs of its broker: the services handlers get, the registry, and fault injection. */
export interface DispatcherHost extends BrokerServices {
  readonly registry: HandlerRegistry;
  readonly faults: FaultInjector | null;
}

export class Dispatcher {
  /** The load of a handler that requests wait for; null when none is loading. */
  private loading: Promise<unknown> | null = null;

  constructor(private readonly broker: DispatcherHost) {}

  handle(frame: Buffer, connection: RequestContext): Promise<ResponseFrame | null> | ResponseFrame | null {
    const sasl = connection.security?.sasl;
    if (sasl?.expectsRawToken) return this.rawSaslToken(sasl, frame, connection);
    if (frame.length < 8)
      throw new ConnectionViolation(`request of ${frame.length} bytes is shorter than a request header`);
    const apiKey = frame.readInt16BE(0);
    if (sasl) {
      // On a SASL listener, only the SASL exchange is served until it completes (see sasl/authenticator.ts).
      const refused = sasl.admit(apiKey);
      if (refused !== null) throw new ConnectionViolation(refused);
    }
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const api = this.broker.registry.get(apiKey);
    if (!api) throw new ConnectionViolation(`unknown api key ${apiKey} (version ${apiVersion})`);
    if (apiVersion < api.minVersion || apiVersion > api.maxVersion) {
      if (apiKey === API_VERSIONS_KEY) {
        this.broker.logger.info(
          { conn: `${connection.remoteAddress}:${connection.remotePort}#${connection.connectionId}` },
          `answering ApiVersions v${apiVersion} with UNSUPPORTED_VERSION and the served ranges ` +
            `(v${api.minVersion}-v${api.maxVersion}); the client should retry with a version in range`,
        );
        return this.unsupportedApiVersions(correlationId);
      }
      throw new ConnectionViolation(
        `${api.name} v${apiVersion} is not supported (this broker serves v${api.minVersion}-v${api.maxVersion})`,
      );
    }
    if (this.loading !== null || api.handler === null) return this.afterLoading(api, frame, connection);
    return this.run(api.handler, frame, connection, apiKey, apiVersion, correlationId);
  }

  /** Handles the request once the handler loading now, or else its own handler, has loaded. */
  private afterLoading(api: ServedApi, frame: Buffer, connection: RequestContext): Promise<ResponseFrame | null> {
    if (this.loading === null) {
      const loading = this.broker.registry.load(api).finally(() => {
        if (this.loading === loading) this.loading = null;
      });
      this.loading = loading;
    }
    return this.loading.then(() => this.handle(frame, connection));
  }

  /** Decodes the request, runs the handler, encodes its response. */
  private run(
    handler: HandlerDefinition,
    frame: Buffer,
    connection: RequestContext,
    apiKey: number,
    apiVersion: number,
    correlationId: number,
  ): Promise<ResponseFrame | null> | ResponseFrame | null {
    const reader = new Reader(frame, 8).limitElements(MAX_REQUEST_ELEMENTS);
    let header: RequestHeaderInfo;
    let request: unknown;
    try {
      const clientId = reader.nullableString();
      if (requestHeaderVersion(apiKey, apiVersion) >= 2) reader.taggedFields();
      header = { apiKey, apiVersion, correlationId, clientId };
      // Bytes after the body's last field are ignored, for every API and version, as Kafka's
      // AbstractRequest.parseRequest does: librdkafka 2.12 sends Metadata v12 with 3 such bytes.
      request = handler.api.decodeRequest(reader, apiVersion);
    } catch (err) {
      if (err instanceof DecodeError) {
        throw new ConnectionViolation(`malformed ${handler.api.name} v${apiVersion} request: ${err.message}`);
      }
      throw err;
    }

    const ctx: HandlerContext = { broker: this.broker, version: apiVersion, header, connection };
    const fault = this.broker.faults?.take(apiKey) ?? null;
    const metrics = this.broker.metrics;
    const started = performance.now();
    metrics.bytesIn.inc(frame.length + 4);
    const result = handler.handle(request, ctx);
    const handlerMs = performance.now() - started;
    const write = (response: unknown): EncodedResponse => {
      const w = new Writer(1024, { shareBytesFrom: SHARE_BYTES_FROM });
      const sizeAt = w.reserveInt32();
      w.int32(correlationId);
      if (responseHeaderVersion(apiKey, apiVersion) >= 1) w.uvarint(0);
      handler.api.encodeResponse(w, apiVersion, response);
      w.patchSize(sizeAt);
      return { frame: w.chunked ? w.toBuffers() : w.toBuffer(), size: w.length };
    };
    const encode = (response: unknown): ResponseFrame | null => {
      metrics.observe(handler.api.name, response, (performance.now() - started) / 1000);
      if (response !== null && fault?.errorCode !== undefined) setErrorCodes(response, fault.errorCode);
      const quotas = this.broker.quotas;
      const out = quotas.enabled
        ? quotas.respond(connection, apiKey, header.clientId, frame.length, response, handlerMs, write)
        : response === null
          ? null
          : write(response);
      if (out === null) return null;
      metrics.bytesOut.inc(out.size);
      return out.frame;
    };
    if (fault?.delayMs) {
      return Promise.resolve(result).then(
        (response) =>
          new Promise<ResponseFrame | null>((resolve) => {
            // An injected delay never keeps the process alive on its own (the connection's socket does).
            setTimeout(() => resolve(encode(response)), fault.delayMs).unref();
          }),
      );
    }
    return result instanceof Promise ? result.then(encode) : encode(result);
  }

  /** A SASL token sent without a request header, after SaslHandshake v0: answered the same way. */
  private async rawSaslToken(
    sasl: SaslServerAuthenticator,
    token: Buffer,
    connection: RequestContext,
  ): Promise<ResponseFrame | null> {
    const { frame, closeReason } = await sasl.rawToken(token);
    if (closeReason !== undefined) connection.closeAfterResponse?.(closeReason);
    return frame;
  }

  /** ApiVersions v0 body: error code, then the array of supported ranges. */
  private unsupportedApiVersions(correlationId: number): Buffer {
    const ranges = this.broker.registry.ranges();
    const w = new Writer(16 + ranges.length * 6);
    const sizeAt = w.reserveInt32();
    w.int32(correlationId);
    w.int16(ErrorCode.UNSUPPORTED_VERSION);
    w.arrayLength(ranges.length);
    for (const r of ranges) {
      w.int16(r.apiKey);
      w.int16(r.minVersion);
      w.int16(r.maxVersion);
    }
    w.patchSize(sizeAt);
    return w.toBuffer();
  }
}

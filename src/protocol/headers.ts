import { decodeRequestHeader, type RequestHeader } from './generated/request-header.js';
import { encodeResponseHeader } from './generated/response-header.js';
import { requestHeaderVersion, responseHeaderVersion } from './generated/version-table.js';
import { DecodeError, type Reader } from './reader.js';
import type { Writer } from './writer.js';

export { requestHeaderVersion, responseHeaderVersion };

/**
 * Reads a request header whose version is not known yet: the api key and version that open every
 * header decide it (`requestHeaderVersion`).
 */
export function readRequestHeader(r: Reader): { header: RequestHeader; headerVersion: number } {
  if (r.remaining() < 4) throw new DecodeError(`a request header needs at least 4 bytes, got ${r.remaining()}`);
  const apiKey = r.buf.readInt16BE(r.offset);
  const apiVersion = r.buf.readInt16BE(r.offset + 2);
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  return { header: decodeRequestHeader(r, headerVersion), headerVersion };
}

/** Writes the response header for a response to `apiKey` at `apiVersion`. */
export function writeResponseHeader(w: Writer, apiKey: number, apiVersion: number, correlationId: number): void {
  encodeResponseHeader(w, responseHeaderVersion(apiKey, apiVersion), { correlationId });
}

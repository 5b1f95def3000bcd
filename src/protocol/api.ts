import type { Reader } from './reader.js';
import type { Writer } from './writer.js';

/**
 * What the generated code knows about one API (one api key): its version range and the codecs of its
 * request and response. Each generated `generated/NN-name.ts` exports one, e.g. `ProduceApi`, and
 * `generated/index.ts` collects them in `API_BY_KEY`.
 *
 * Decoders fill every field the version lacks with its default; encoders skip fields the version
 * lacks and treat `undefined` as the default, so a handler that forgets a field cannot corrupt a frame.
 */
export interface ApiDescriptor<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  /** Kafka's name without Request/Response, e.g. `Produce`. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The first flexible version (compact encodings and tagged fields), or -1 if none is. */
  readonly flexibleMinVersion: number;
  /** Kafka does not advertise its newest version of this API unless unstable versions are enabled. */
  readonly latestVersionUnstable: boolean;
  /** Where Kafka serves this API: `broker`, `controller`, `zkBroker`. */
  readonly listeners: readonly string[];
  decodeRequest(r: Reader, version: number): Req;
  encodeRequest(w: Writer, version: number, msg: Req): void;
  decodeResponse(r: Reader, version: number): Res;
  encodeResponse(w: Writer, version: number, msg: Res): void;
  defaultRequest(): Req;
  defaultResponse(): Res;
}

/** A versioned structure that is not a request or response: the headers and the data-only schemas. */
export interface MessageCodec<T = unknown> {
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The first flexible version, or -1 if none is. */
  readonly flexibleMinVersion: number;
  decode(r: Reader, version: number): T;
  encode(w: Writer, version: number, msg: T): void;
  defaultValue(): T;
}

/** Whether `version` of an API or structure uses the flexible (compact, tagged) encoding. */
export function isFlexibleVersion(api: { readonly flexibleMinVersion: number }, version: number): boolean {
  return api.flexibleMinVersion >= 0 && version >= api.flexibleMinVersion;
}

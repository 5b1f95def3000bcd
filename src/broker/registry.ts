/**
 * The handler registry: api key + version → handler. Each file in `handlers/` defines one API with the
 * version range it serves, and handlers/index.ts registers it with that range; ApiVersions is answered from
 * the registrations, and a handler file that disagrees with its registration fails to load, so the advertised
 * ranges can never drift from what is served.
 *
 * A handler's file, with its codec, loads on the first request to its API: a broker loads only the handlers
 * its clients use, which keeps about fifty modules out of its start-up and its memory.
 */

import type { RequestContext } from '../network/connection.js';
import type { ApiDescriptor } from '../protocol/api.js';
import { API_VERSION_TABLE } from '../protocol/generated/version-table.js';
import type { BrokerServices } from './handler-context.js';

export interface RequestHeaderInfo {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface HandlerContext {
  /** The broker's services a handler may use (handler-context.ts). */
  readonly broker: BrokerServices;
  readonly version: number;
  readonly header: RequestHeaderInfo;
  readonly connection: RequestContext;
}

export interface HandlerDefinition<Req = unknown, Res = unknown> {
  readonly api: ApiDescriptor<Req, Res>;
  /** Versions served; may be narrower than the spec's range. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Returns the response, or null when this request gets none (acks=0 produce). */
  handle(request: Req, ctx: HandlerContext): Promise<Res | null> | Res | null;
}

/** Identity function that keeps the request and response types of a handler definition linked. */
export function defineHandler<Req, Res>(definition: HandlerDefinition<Req, Res>): HandlerDefinition<Req, Res> {
  return definition;
}

/**
 * One served API as handlers/index.ts lists it: its key, the versions served, and how to load its file. The
 * file is loaded on the API's first request, and must define the same versions (the registry checks).
 */
export interface HandlerRegistration {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  // biome-ignore lint/suspicious/noExplicitAny: each handler has its own request/response types.
  load(): Promise<{ default: HandlerDefinition<any, any> }>;
}

/** A served API: what the dispatcher checks before the handler exists, and the handler once loaded. */
export interface ServedApi {
  readonly apiKey: number;
  /** Kafka's name without Request/Response, e.g. `Produce`. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** Null until `HandlerRegistry.load` has loaded the handler's file. */
  readonly handler: HandlerDefinition | null;
}

interface Entry extends ServedApi {
  handler: HandlerDefinition | null;
  readonly registration: HandlerRegistration;
  loading: Promise<HandlerDefinition> | null;
}

export class HandlerRegistry {
  private readonly byKey = new Map<number, Entry>();

  register(registration: HandlerRegistration): void {
    const { apiKey, minVersion, maxVersion } = registration;
    const spec = API_VERSION_TABLE[apiKey];
    if (spec === undefined) throw new Error(`api key ${apiKey} is not a Kafka API`);
    if (this.byKey.has(apiKey)) throw new Error(`api key ${apiKey} (${spec.name}) registered twice`);
    if (minVersion < spec.minVersion || maxVersion > spec.maxVersion) {
      throw new Error(
        `${spec.name} serves ${minVersion}-${maxVersion}, outside the spec's ${spec.minVersion}-${spec.maxVersion}`,
      );
    }
    this.byKey.set(apiKey, {
      apiKey,
      name: spec.name,
      minVersion,
      maxVersion,
      handler: null,
      registration,
      loading: null,
    });
  }

  get(apiKey: number): ServedApi | undefined {
    return this.byKey.get(apiKey);
  }

  /** Loads the handler of a served API (once), checking that its file defines the registered versions. */
  load(api: ServedApi): Promise<HandlerDefinition> {
    const entry = this.byKey.get(api.apiKey);
    if (entry === undefined) return Promise.reject(new Error(`api key ${api.apiKey} is not registered`));
    if (entry.handler !== null) return Promise.resolve(entry.handler);
    entry.loading ??= entry.registration.load().then(
      ({ default: definition }) => {
        if (
          definition.api.apiKey !== entry.apiKey ||
          definition.minVersion !== entry.minVersion ||
          definition.maxVersion !== entry.maxVersion
        ) {
          throw new Error(
            `handlers/index.ts registers ${entry.name} v${entry.minVersion}-v${entry.maxVersion}, but its file ` +
              `defines ${definition.api.name} v${definition.minVersion}-v${definition.maxVersion}: make them agree`,
          );
        }
        entry.handler = definition as HandlerDefinition;
        return entry.handler;
      },
      (err: unknown) => {
        // A failed load is tried again by the next request rather than remembered.
        entry.loading = null;
        throw err;
      },
    );
    return entry.loading;
  }

  /** Loads every handler: for tests, and for whoever would rather pay for them all up front. */
  async loadAll(): Promise<void> {
    await Promise.all([...this.byKey.values()].map((entry) => this.load(entry)));
  }

  /** Every served api with its version range, ordered by api key (the ApiVersions answer). */
  ranges(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.byKey.values()]
      .map((d) => ({ apiKey: d.apiKey, minVersion: d.minVersion, maxVersion: d.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}

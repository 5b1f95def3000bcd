/**
 * The handler registry: api key + version → handler. Each file in `handlers/` defines one API with the
 * version range it serves; ApiVersions is answered from these definitions, so the advertised ranges can
 * never drift from what is served.
 */

import type { RequestContext } from '../network/connection.js';
import type { ApiDescriptor } from '../protocol/api.js';
import type { Broker } from './broker.js';

export interface RequestHeaderInfo {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface HandlerContext {
  readonly broker: Broker;
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

export class HandlerRegistry {
  private readonly byKey = new Map<number, HandlerDefinition>();

  // biome-ignore lint/suspicious/noExplicitAny: each handler has its own request/response types; the registry stores them side by side.
  register(definition: HandlerDefinition<any, any>): void {
    const key = definition.api.apiKey;
    if (this.byKey.has(key)) throw new Error(`api key ${key} (${definition.api.name}) registered twice`);
    if (definition.minVersion < definition.api.minVersion || definition.maxVersion > definition.api.maxVersion) {
      throw new Error(
        `${definition.api.name} serves ${definition.minVersion}-${definition.maxVersion}, ` +
          `outside the spec's ${definition.api.minVersion}-${definition.api.maxVersion}`,
      );
    }
    this.byKey.set(key, definition as HandlerDefinition);
  }

  get(apiKey: number): HandlerDefinition | undefined {
    return this.byKey.get(apiKey);
  }

  /** Every served api with its version range, ordered by api key (the ApiVersions answer). */
  ranges(): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return [...this.byKey.values()]
      .map((d) => ({ apiKey: d.api.apiKey, minVersion: d.minVersion, maxVersion: d.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }
}

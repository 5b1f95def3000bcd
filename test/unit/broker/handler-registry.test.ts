/**
 * The handler registry and the dispatcher's loading of handlers on their API's first request: the registered
 * versions agree with the handler files, and requests that arrive while a handler loads keep their order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dispatcher } from '../../../src/broker/dispatcher.js';
import { HANDLERS, registerAllHandlers } from '../../../src/broker/handlers/index.js';
import { defineHandler, type HandlerRegistration, HandlerRegistry } from '../../../src/broker/registry.js';
import type { RequestContext } from '../../../src/network/connection.js';
import { HeartbeatApi } from '../../../src/protocol/generated/12-heartbeat.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/18-api-versions.js';
import { ApiKey } from '../../../src/protocol/generated/api-keys.js';
import { Writer } from '../../../src/protocol/writer.js';
import { fakeServices } from '../../helpers/broker-services.js';

test('every handler file defines the api key and versions handlers/index.ts registers for it', async () => {
  const registry = new HandlerRegistry();
  registerAllHandlers(registry);
  assert.equal(registry.get(ApiKey.PRODUCE)?.handler, null, 'nothing is loaded before its first request');
  await registry.loadAll();
  for (const { apiKey, minVersion, maxVersion } of HANDLERS) {
    const api = registry.get(apiKey);
    assert.ok(api?.handler, `api key ${apiKey} is loaded`);
    assert.deepEqual(
      [api.handler.api.apiKey, api.handler.minVersion, api.handler.maxVersion],
      [apiKey, minVersion, maxVersion],
    );
  }
});

test('a handler file that serves other versions than its registration fails to load, naming both', async () => {
  const registry = new HandlerRegistry();
  const heartbeatV0toV3 = defineHandler({
    api: HeartbeatApi,
    minVersion: 0,
    maxVersion: 3,
    handle: () => HeartbeatApi.defaultResponse(),
  });
  registry.register({
    apiKey: ApiKey.HEARTBEAT,
    minVersion: 0,
    maxVersion: 4,
    load: async () => ({ default: heartbeatV0toV3 }),
  });
  const api = registry.get(ApiKey.HEARTBEAT)!;
  await assert.rejects(registry.load(api), /registers Heartbeat v0-v4, but its file defines Heartbeat v0-v3/);
  assert.equal(api.handler, null);
});

test('registering versions beyond those Kafka defines, or an api key twice, is refused', () => {
  const registry = new HandlerRegistry();
  const load = async () => ({
    default: defineHandler({ api: HeartbeatApi, minVersion: 0, maxVersion: 4, handle: () => null }),
  });
  assert.throws(
    () => registry.register({ apiKey: ApiKey.HEARTBEAT, minVersion: 0, maxVersion: 99, load }),
    /Heartbeat serves 0-99, outside the spec's 0-4/,
  );
  assert.throws(() => registry.register({ apiKey: 9999, minVersion: 0, maxVersion: 0, load }), /not a Kafka API/);
  registry.register({ apiKey: ApiKey.HEARTBEAT, minVersion: 0, maxVersion: 4, load });
  assert.throws(() => registry.register({ apiKey: ApiKey.HEARTBEAT, minVersion: 0, maxVersion: 4, load }), /twice/);
});

/** A request frame (without its size prefix) with a v1 header and the body `encode` writes. */
function requestFrame(apiKey: number, version: number, correlationId: number, encode: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.nullableString('test');
  encode(w);
  return w.toBuffer();
}

const connection: RequestContext = {
  connectionId: 1,
  remoteAddress: '127.0.0.1',
  remotePort: 50000,
  listenerName: 'PLAINTEXT',
  state: new Map(),
  close() {},
};

test('requests that arrive while a handler loads run after it, in the order they arrived, whatever their API', async () => {
  const handled: string[] = [];
  let finishLoading!: () => void;
  const heartbeatLoaded = new Promise<void>((resolve) => (finishLoading = resolve));
  const heartbeat = defineHandler({
    api: HeartbeatApi,
    minVersion: 0,
    maxVersion: 4,
    handle: (request) => {
      handled.push(`heartbeat ${request.memberId}`);
      return HeartbeatApi.defaultResponse();
    },
  });
  const apiVersions = defineHandler({
    api: ApiVersionsApi,
    minVersion: 0,
    maxVersion: 4,
    handle: () => {
      handled.push('api versions');
      return ApiVersionsApi.defaultResponse();
    },
  });
  const registrations: HandlerRegistration[] = [
    {
      apiKey: ApiKey.HEARTBEAT,
      minVersion: 0,
      maxVersion: 4,
      load: () => heartbeatLoaded.then(() => ({ default: heartbeat })),
    },
    { apiKey: ApiKey.API_VERSIONS, minVersion: 0, maxVersion: 4, load: async () => ({ default: apiVersions }) },
  ];
  const registry = new HandlerRegistry();
  for (const r of registrations) registry.register(r);
  await registry.load(registry.get(ApiKey.API_VERSIONS)!);
  const broker = { ...fakeServices(), registry, faults: null };
  const dispatcher = new Dispatcher(broker);

  const beat = (memberId: string, correlationId: number) =>
    requestFrame(ApiKey.HEARTBEAT, 0, correlationId, (w) =>
      HeartbeatApi.encodeRequest(w, 0, { ...HeartbeatApi.defaultRequest(), groupId: 'g', memberId }),
    );
  const versions = requestFrame(ApiKey.API_VERSIONS, 0, 3, () => {});
  const answers = [
    dispatcher.handle(beat('a', 1), connection),
    dispatcher.handle(versions, connection),
    dispatcher.handle(beat('b', 2), connection),
  ];
  assert.ok(
    answers.every((a) => a instanceof Promise),
    'all three wait for the Heartbeat handler',
  );
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(handled, []);
  finishLoading();
  await Promise.all(answers);
  assert.deepEqual(handled, ['heartbeat a', 'api versions', 'heartbeat b']);
  const next = dispatcher.handle(versions, connection);
  assert.ok(!(next instanceof Promise), 'once every handler used is loaded, requests are answered at once');
});

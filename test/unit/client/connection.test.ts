/**
 * The client connection against a scripted fake broker: version negotiation (including the KIP-511
 * fallback when the broker does not know the client's ApiVersions version), pipelined requests matched by
 * correlation id, and request timeouts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { Connection } from '../../../src/client/connection.js';
import { RequestTimeoutError } from '../../../src/client/errors.js';
import { negotiateVersions } from '../../../src/client/versions.js';
import type { ApiDescriptor } from '../../../src/protocol/api.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/18-api-versions.js';
import { ApiKey } from '../../../src/protocol/generated/api-keys.js';
import { responseHeaderVersion } from '../../../src/protocol/generated/index.js';
import { Writer } from '../../../src/protocol/writer.js';

interface Request {
  apiKey: number;
  version: number;
  correlationId: number;
}

function frame<Res>(api: ApiDescriptor<unknown, Res>, version: number, correlationId: number, body: Res): Buffer {
  const w = new Writer();
  const at = w.reserveInt32();
  w.int32(correlationId);
  if (responseHeaderVersion(api.apiKey, version) >= 1) w.uvarint(0);
  api.encodeResponse(w, version, body);
  w.patchSize(at);
  return Buffer.from(w.toBuffer());
}

/** A server that hands each request header to `onRequest` with a way to answer. */
async function fakeBroker(
  onRequest: (req: Request, socket: Socket) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const size = buf.readInt32BE(0);
        const f = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        onRequest({ apiKey: f.readInt16BE(0), version: f.readInt16BE(2), correlationId: f.readInt32BE(4) }, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

const RANGES = [
  { apiKey: ApiKey.PRODUCE, minVersion: 2, maxVersion: 5 },
  { apiKey: ApiKey.FETCH, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.METADATA, minVersion: 0, maxVersion: 8 },
  { apiKey: ApiKey.API_VERSIONS, minVersion: 0, maxVersion: 2 },
  { apiKey: 9999, minVersion: 0, maxVersion: 1 },
];

function answerApiVersions(req: Request, socket: Socket): boolean {
  if (req.apiKey !== ApiKey.API_VERSIONS) return false;
  const body = ApiVersionsApi.defaultResponse();
  body.apiKeys = RANGES;
  if (req.version > 2) {
    // KIP-511: an unknown ApiVersions version is answered in the v0 format with the broker's ranges.
    body.errorCode = ErrorCode.UNSUPPORTED_VERSION;
    socket.write(frame(ApiVersionsApi, 0, req.correlationId, body));
  } else {
    socket.write(frame(ApiVersionsApi, req.version, req.correlationId, body));
  }
  return true;
}

describe('client connection', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  test('negotiation picks the highest version inside both ranges and drops APIs without overlap', () => {
    const chosen = negotiateVersions(RANGES);
    assert.equal(chosen.get(ApiKey.PRODUCE), 5);
    assert.equal(chosen.get(ApiKey.METADATA), 8);
    assert.equal(chosen.has(ApiKey.FETCH), false, 'broker Fetch v0-3 is below the client’s v4 minimum');
    assert.equal(chosen.has(9999), false, 'an API the client does not speak');
  });

  test('a broker that does not know ApiVersions v3 is asked again with a version it lists', async () => {
    const seen: number[] = [];
    const { server, port } = await fakeBroker((req, socket) => {
      if (req.apiKey === ApiKey.API_VERSIONS) seen.push(req.version);
      answerApiVersions(req, socket);
    });
    servers.push(server);
    const c = await Connection.connect({ host: '127.0.0.1', port });
    assert.deepEqual(seen, [3, 2]);
    assert.equal(c.version(MetadataApi), 8);
    assert.equal(c.versions.get(ApiKey.API_VERSIONS), 2);
    assert.throws(
      () => c.version({ apiKey: ApiKey.FETCH, name: 'Fetch' }),
      /UNSUPPORTED_VERSION: .* serves Fetch v0-v3; this client speaks v4-v17/,
    );
    c.close();
  });

  test('pipelined requests are matched to their answers by correlation id, whatever the order', async () => {
    const held: Request[] = [];
    const { server, port } = await fakeBroker((req, socket) => {
      if (answerApiVersions(req, socket)) return;
      held.push(req);
      if (held.length === 3) {
        for (const r of held.reverse()) {
          const body = MetadataApi.defaultResponse();
          body.controllerId = r.correlationId;
          socket.write(frame(MetadataApi, r.version, r.correlationId, body));
        }
      }
    });
    servers.push(server);
    const c = await Connection.connect({ host: '127.0.0.1', port });
    const answers = await Promise.all([1, 2, 3].map(() => c.send(MetadataApi, MetadataApi.defaultRequest())));
    const ids = held.map((r) => r.correlationId).sort((a, b) => a - b);
    assert.deepEqual(
      answers.map((a) => a.controllerId),
      ids,
    );
    assert.equal(held[0].version, 8);
    c.close();
  });

  test('a request without an answer times out and closes the connection', async () => {
    const { server, port } = await fakeBroker((req, socket) => {
      answerApiVersions(req, socket);
    });
    servers.push(server);
    const c = await Connection.connect({ host: '127.0.0.1', port });
    await assert.rejects(c.send(MetadataApi, MetadataApi.defaultRequest(), { timeoutMs: 50 }), RequestTimeoutError);
    assert.equal(c.closed, true);
  });

  test('a refused connection is reported in one readable line', async () => {
    const { server, port } = await fakeBroker(() => {});
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(Connection.connect({ host: '127.0.0.1', port }), /connection refused/);
  });
});

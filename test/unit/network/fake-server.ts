/**
 * The network layer's KafkaServer on a free local port with a fake frame handler, for the tests of
 * test/unit/network that leave the broker out.
 */
import { afterEach } from 'node:test';
import type { FrameHandler } from '../../../src/network/connection.js';
import { KafkaServer, type ServerOptions } from '../../../src/network/server.js';

/**
 * Registers an `afterEach` that closes the server of the test, and returns `start`: it listens with the
 * handler, `defaults` and then the test's own options, and resolves to the bound port.
 */
export function fakeServerPerTest(
  defaults: Pick<ServerOptions, 'logger' | 'maxRequestBytes'>,
): (handler: FrameHandler, options?: Partial<ServerOptions>) => Promise<number> {
  let server: KafkaServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return async (handler, options = {}) => {
    server = new KafkaServer({
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }],
      handler,
      maxQueuedRequests: 100,
      maxConnections: 100,
      maxConnectionsPerIp: 100,
      idleTimeoutMs: -1,
      ...defaults,
      ...options,
    });
    const [bound] = await server.listen();
    return bound.port;
  };
}

/** A frame whose body is an int32 id and then `extra` zero bytes: a request to, or an answer from, a fake handler. */
export function idFrame(id: number, extra = 0): Buffer {
  const b = Buffer.alloc(8 + extra);
  b.writeInt32BE(4 + extra, 0);
  b.writeInt32BE(id, 4);
  return b;
}

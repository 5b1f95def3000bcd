/**
 * Embedded brokers with a SASL_PLAINTEXT listener and three SCRAM users — admin (a super user), alice and
 * bob, each with the password `<name>-secret` — for the ACL tests, and logins over raw connections.
 * Everything started is stopped after the test file.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { SaslHandshakeApi } from '../../src/protocol/generated/17-sasl-handshake.js';
import { SaslAuthenticateApi } from '../../src/protocol/generated/36-sasl-authenticate.js';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { RawClient } from './raw-client.js';
import { ScramClient } from './scram-client.js';

export function aclBrokers(): {
  aclBroker(authorizer?: boolean): Promise<EmbeddedBroker>;
  login(broker: EmbeddedBroker, user: string): Promise<RawClient>;
} {
  const brokers: EmbeddedBroker[] = [];
  const clients: RawClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const b of brokers) await b.stop();
  });
  return {
    /** With Kafka's StandardAuthorizer named (and admin a super user), or without an authorizer. */
    async aclBroker(authorizer = true) {
      const broker = await startBroker({
        users: ['admin', 'alice', 'bob'].map((name) => ({ name, password: `${name}-secret` })),
        topics: ['t', 'secret'],
        config: {
          listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
          ...(authorizer
            ? {
                'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
                'super.users': 'User:admin',
              }
            : {}),
        },
      });
      brokers.push(broker);
      return broker;
    },
    /** A raw connection to the SASL listener, logged in as `user` with SCRAM-SHA-512. */
    async login(broker, user) {
      const client = await RawClient.connect(Number(broker.listeners.SASL_PLAINTEXT.split(':')[1]));
      clients.push(client);
      assert.equal(
        (await client.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-512' })).errorCode,
        ErrorCode.NONE,
      );
      const scram = new ScramClient('SCRAM-SHA-512', user, `${user}-secret`);
      const first = await client.request(SaslAuthenticateApi, 2, { authBytes: scram.first() });
      const last = await client.request(SaslAuthenticateApi, 2, { authBytes: scram.final(first.authBytes) });
      assert.equal(last.errorCode, ErrorCode.NONE, last.errorMessage ?? '');
      return client;
    },
  };
}

/**
 * SASL against the oracle: the same exchanges sent to Apache Kafka and to Sluice, each with a
 * SASL_PLAINTEXT listener offering SCRAM-SHA-512 and PLAIN, get the same error codes, messages, mechanism
 * lists and session lifetimes, and the same refusals (connections closed unanswered).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { MetadataApi } from '../../src/protocol/generated/03-metadata.js';
import { SaslHandshakeApi } from '../../src/protocol/generated/17-sasl-handshake.js';
import { SaslAuthenticateApi } from '../../src/protocol/generated/36-sasl-authenticate.js';
import { startBroker } from '../../src/testing/start-broker.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';
import { RawClient } from '../helpers/raw-client.js';
import { ScramClient } from '../helpers/scram-client.js';

const JAAS_PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_paul="paul-secret";';
const METADATA = { ...MetadataApi.defaultRequest(), topics: [] };

/** What one broker answers to each exchange, as plain data to compare. */
async function observe(plainPort: number, saslPort: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const connect = () => RawClient.connect(saslPort);

  let c = await connect();
  const unsupported = await c.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-256' });
  out.unsupported = {
    errorCode: unsupported.errorCode,
    mechanisms: unsupported.mechanisms,
    closes: await c.closesWithin(5000),
  };

  c = await connect();
  c.sendRequest(MetadataApi, 1, METADATA);
  out.beforeAuthentication = { answered: (await c.nextFrame()) !== null, closed: c.isClosed };

  const scram = async (user: string, password: string) => {
    const client = await connect();
    await client.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-512' });
    const s = new ScramClient('SCRAM-SHA-512', user, password);
    const first = await client.request(SaslAuthenticateApi, 1, { authBytes: s.first() });
    if (first.errorCode !== ErrorCode.NONE)
      return {
        step: 'first',
        errorCode: first.errorCode,
        errorMessage: first.errorMessage,
        closes: await client.closesWithin(5000),
      };
    const last = await client.request(SaslAuthenticateApi, 1, { authBytes: s.final(first.authBytes) });
    const verified = last.errorCode === ErrorCode.NONE && s.verify(last.authBytes);
    const served = verified ? (await client.request(MetadataApi, 1, METADATA)).brokers.length : 0;
    return {
      step: 'final',
      errorCode: last.errorCode,
      errorMessage: last.errorMessage,
      sessionLifetimeMs: String(last.sessionLifetimeMs),
      verified,
      served,
      closes: verified ? false : await client.closesWithin(5000),
    };
  };
  out.scramRight = await scram('alice', 'alice-secret');
  out.scramWrong = await scram('alice', 'wrong');
  out.scramUnknown = await scram('mallory', 'x');

  const plain = async (token: string) => {
    const client = await connect();
    await client.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' });
    const answer = await client.request(SaslAuthenticateApi, 1, { authBytes: Buffer.from(token) });
    client.socket.destroy();
    return { errorCode: answer.errorCode, errorMessage: answer.errorMessage };
  };
  out.plainRight = await plain('\u0000paul\u0000paul-secret');
  out.plainWrong = await plain('\u0000paul\u0000nope');
  out.plainNoUser = await plain('\u0000\u0000nope');
  out.plainTwoTokens = await plain('paul\u0000nope');

  const plaintext = await RawClient.connect(plainPort);
  out.handshakeOnPlaintext = (await plaintext.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode;
  plaintext.socket.destroy();
  return out;
}

test('Sluice answers the SASL exchanges as Apache Kafka does', async (t) => {
  if (kafkaPeerOrSkip(t)) return;
  const settings = {
    'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS_PLAIN,
    'connections.max.reauth.ms': 60000,
  };
  const peer = await startKafkaPeer({
    saslListener: true,
    addScram: ['SCRAM-SHA-512=[name=alice,password=alice-secret]'],
    overrides: {
      ...settings,
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    },
  });
  t.after(() => peer.stop());
  const sluice = await startBroker({
    users: [{ name: 'alice', password: 'alice-secret', mechanism: 'SCRAM-SHA-512' }],
    config: { listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0', ...settings },
  });
  t.after(() => sluice.stop());

  const kafka = await observe(peer.port, peer.saslPort);
  const ours = await observe(sluice.port, Number(sluice.listeners.SASL_PLAINTEXT.split(':')[1]));
  assert.deepEqual(ours, kafka);
  // The oracle itself behaves as the other tests assume.
  assert.equal((kafka.scramRight as { verified: boolean }).verified, true);
  assert.equal((kafka.unsupported as { errorCode: number }).errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
});

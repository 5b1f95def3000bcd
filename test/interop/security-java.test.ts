/**
 * The Apache Kafka Java client (4.x) over SASL_SSL with SCRAM-SHA-512 and a PEM trust store: it produces
 * and consumes across several session lifetimes (connections.max.reauth.ms), so it re-authenticates on its
 * open connections (KIP-368) without losing them; its AdminClient creates and describes a SCRAM user who then
 * logs in; a wrong password gets Kafka's exception and message.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../../src/testing/start-broker.js';
import { REPO_ROOT } from '../helpers/broker-process.js';
import { lastJson, run } from '../helpers/clients.js';
import { kafkaClasspath, kafkaPeerOrSkip } from '../helpers/kafka-peer.js';
import { makeCertificates } from '../helpers/tls-certs.js';

test('the Java client produces and consumes over SASL_SSL with SCRAM-SHA-512 and re-authenticates', async (t) => {
  if (kafkaPeerOrSkip(t)) return;
  const certs = await makeCertificates();
  t.after(() => certs.remove());
  const broker = await startBroker({
    users: [{ name: 'alice', password: 'alice-secret', mechanism: 'SCRAM-SHA-512' }],
    topics: ['java-sasl'],
    config: {
      listeners: 'SASL_SSL://127.0.0.1:0',
      'ssl.keystore.location': certs.serverKeystore,
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'connections.max.reauth.ms': 1500,
    },
  });
  t.after(() => broker.stop());
  const source = join(REPO_ROOT, 'test', 'interop', 'java', 'SecurityScenario.java');
  const r = await run('java', ['-cp', kafkaClasspath(), source, broker.bootstrap, certs.caFile], {
    timeoutMs: 120_000,
  });
  const outcome = lastJson<{
    described: string;
    bobLoggedIn: boolean;
    produced: number;
    consumed: number;
    last: string;
    wrong: string;
  }>(r);
  assert.match(outcome.described, /SCRAM_SHA_512.*8192/, 'AdminClient describes the user it made');
  assert.equal(outcome.bobLoggedIn, true, 'the user made through AlterUserScramCredentials logs in');
  assert.equal(outcome.produced, 10, r.stderr);
  assert.equal(outcome.consumed, 10, r.stderr);
  assert.equal(outcome.last, 'v9');
  assert.match(
    outcome.wrong,
    /^SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
  );
  // Producing for 4 s with 1.5 s sessions makes the producer's connection re-authenticate.
  assert.ok(broker.broker.authentications.reauthenticated >= 1, 'no connection re-authenticated');
});

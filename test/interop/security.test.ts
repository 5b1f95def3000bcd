/**
 * Real clients over TLS and SASL: kafkajs, kcat (librdkafka) and confluent-kafka (Python) produce and
 * consume over SASL_SSL with SCRAM-SHA-512, over SASL_PLAINTEXT with PLAIN and over mutual TLS, on one
 * broker serving all of those listeners at once; a wrong password is refused with Kafka's error while
 * other clients keep being served.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { type EmbeddedBroker, startBroker } from '../../src/testing/start-broker.js';
import { kcat, lastJson, python } from '../helpers/clients.js';
import { makeIssuer, type TestIssuer } from '../helpers/jwt.js';
import { makeCertificates, type TestCertificates } from '../helpers/tls-certs.js';

const { Kafka, logLevel } = kafkajs;

let certs: TestCertificates;
let broker: EmbeddedBroker;
let client: { key: string; cert: string; keyFile: string; certFile: string };
let issuer: TestIssuer;

before(async () => {
  certs = await makeCertificates();
  client = await certs.client('/O=Example/CN=app');
  issuer = makeIssuer();
  await issuer.writeJwks(join(certs.dir, 'jwks.json'));
  broker = await startBroker({
    users: [{ name: 'alice', password: 'alice-secret', mechanism: 'SCRAM-SHA-512' }],
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,MTLS://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,MTLS:SSL',
      'ssl.keystore.location': certs.serverKeystore,
      'listener.name.mtls.ssl.client.auth': 'required',
      'listener.name.mtls.ssl.truststore.location': certs.caFile,
      'listener.name.sasl_ssl.sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256,OAUTHBEARER',
      'sasl.oauthbearer.jwks.endpoint.url': `file://${join(certs.dir, 'jwks.json')}`,
      'listener.name.sasl_plaintext.sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_paul="paul-secret";',
      'connection.failed.authentication.delay.ms': 300,
    },
  });
});

after(async () => {
  await broker?.stop();
  await certs?.remove();
});

type KafkaConfig = ConstructorParameters<typeof Kafka>[0];

async function kafkajsRoundTrip(config: Omit<KafkaConfig, 'logLevel'>, topic: string): Promise<string[]> {
  const kafka = new Kafka({ ...config, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'one' }, { value: 'two' }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `g-${topic}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kafkajs read ${seen.length} records`)), 30_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
          if (seen.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return seen;
}

describe('kafkajs', () => {
  test('produces and consumes over SASL_SSL with SCRAM-SHA-512', async () => {
    const seen = await kafkajsRoundTrip(
      {
        brokers: [broker.listeners.SASL_SSL],
        ssl: { ca: [certs.ca] },
        sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' },
      },
      'kafkajs-scram',
    );
    assert.deepEqual(seen, ['one', 'two']);
  });

  test('produces and consumes over SASL_SSL with OAUTHBEARER', async () => {
    const token = issuer.token({ sub: 'svc-orders' });
    const seen = await kafkajsRoundTrip(
      {
        brokers: [broker.listeners.SASL_SSL],
        ssl: { ca: [certs.ca] },
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
      },
      'kafkajs-oauth',
    );
    assert.deepEqual(seen, ['one', 'two']);
  });

  test('produces and consumes over mutual TLS', async () => {
    const seen = await kafkajsRoundTrip(
      { brokers: [broker.listeners.MTLS], ssl: { ca: [certs.ca], key: client.key, cert: client.cert } },
      'kafkajs-mtls',
    );
    assert.deepEqual(seen, ['one', 'two']);
  });

  test('a wrong password is refused with SASL_AUTHENTICATION_FAILED while another client is served', async () => {
    const before = broker.broker.authentications.failed;
    const wrong = new Kafka({
      brokers: [broker.listeners.SASL_SSL],
      ssl: { ca: [certs.ca] },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'wrong' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const right = new Kafka({
      brokers: [broker.listeners.SASL_SSL],
      ssl: { ca: [certs.ca] },
      sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' },
      logLevel: logLevel.NOTHING,
    });
    const admin = right.admin();
    const [refused, topics] = await Promise.all([
      wrong
        .producer()
        .connect()
        .then(
          () => null,
          (err: Error) => err,
        ),
      admin.connect().then(() => admin.listTopics()),
    ]);
    await admin.disconnect();
    assert.ok(refused, 'the wrong password was accepted');
    assert.equal(refused.name, 'KafkaJSSASLAuthenticationError');
    assert.match(
      refused.message,
      /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512/,
    );
    assert.ok(Array.isArray(topics));
    assert.ok(broker.broker.authentications.failed > before, 'the failure is counted');
  });
});

describe('kcat', () => {
  const scram = () => [
    '-X',
    'security.protocol=SASL_SSL',
    '-X',
    'sasl.mechanisms=SCRAM-SHA-512',
    '-X',
    'sasl.username=alice',
    '-X',
    `ssl.ca.location=${certs.caFile}`,
  ];

  test('produces and consumes over SASL_SSL with SCRAM-SHA-512', async () => {
    const auth = [...scram(), '-X', 'sasl.password=alice-secret'];
    const produced = await kcat(broker.listeners.SASL_SSL, ['-P', '-t', 'kcat-scram', ...auth], {
      input: 'a\nb\nc\n',
    });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(broker.listeners.SASL_SSL, [
      '-C',
      '-t',
      'kcat-scram',
      '-o',
      'beginning',
      '-e',
      ...auth,
    ]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['a', 'b', 'c']);
  });

  test('a wrong password fails with Kafka’s message', async () => {
    const r = await kcat(broker.listeners.SASL_SSL, ['-L', ...scram(), '-X', 'sasl.password=nope', '-m', '10'], {
      timeoutMs: 30_000,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid credentials with SASL mechanism SCRAM-SHA-512/);
  });

  test('lists metadata over mutual TLS with the client certificate', async () => {
    const r = await kcat(broker.listeners.MTLS, [
      '-L',
      '-X',
      'security.protocol=SSL',
      '-X',
      `ssl.ca.location=${certs.caFile}`,
      '-X',
      `ssl.certificate.location=${client.certFile}`,
      '-X',
      `ssl.key.location=${client.keyFile}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`at ${broker.listeners.MTLS.replace('.', '\\.')}`));
  });
});

describe('confluent-kafka (Python)', () => {
  const roundTrip = (settings: Record<string, string>, topic: string) => `
from confluent_kafka import Producer, Consumer
conf = json.loads(${JSON.stringify(JSON.stringify(settings))})
conf['bootstrap.servers'] = BOOTSTRAP
p = Producer(conf)
for v in ['x', 'y']:
    p.produce(${JSON.stringify(topic)}, v.encode())
assert p.flush(30) == 0
c = Consumer({**conf, 'group.id': 'g-${topic}', 'auto.offset.reset': 'earliest'})
c.subscribe([${JSON.stringify(topic)}])
seen = []
for _ in range(60):
    m = c.poll(1.0)
    if m is None or m.error():
        continue
    seen.append(m.value().decode())
    if len(seen) == 2:
        break
c.close()
print(json.dumps(seen))
`;

  test('produces and consumes over SASL_PLAINTEXT with PLAIN', async () => {
    const r = await python(
      broker.listeners.SASL_PLAINTEXT,
      roundTrip(
        {
          'security.protocol': 'SASL_PLAINTEXT',
          'sasl.mechanisms': 'PLAIN',
          'sasl.username': 'paul',
          'sasl.password': 'paul-secret',
        },
        'py-plain',
      ),
    );
    assert.deepEqual(lastJson(r), ['x', 'y'], r.stderr);
  });

  test('produces and consumes over SASL_SSL with SCRAM-SHA-512', async () => {
    const r = await python(
      broker.listeners.SASL_SSL,
      roundTrip(
        {
          'security.protocol': 'SASL_SSL',
          'sasl.mechanisms': 'SCRAM-SHA-512',
          'sasl.username': 'alice',
          'sasl.password': 'alice-secret',
          'ssl.ca.location': certs.caFile,
        },
        'py-scram',
      ),
    );
    assert.deepEqual(lastJson(r), ['x', 'y'], r.stderr);
  });

  test('produces and consumes over SASL_SSL with OAUTHBEARER (oauth_cb)', async () => {
    const token = issuer.token({ sub: 'svc-py' });
    const code = roundTrip(
      { 'security.protocol': 'SASL_SSL', 'sasl.mechanisms': 'OAUTHBEARER', 'ssl.ca.location': certs.caFile },
      'py-oauth',
    ).replace(
      "conf['bootstrap.servers'] = BOOTSTRAP",
      `conf['bootstrap.servers'] = BOOTSTRAP\nimport time\nconf['oauth_cb'] = lambda _: (${JSON.stringify(token)}, time.time() + 3600)`,
    );
    const r = await python(broker.listeners.SASL_SSL, code);
    assert.deepEqual(lastJson(r), ['x', 'y'], r.stderr);
  });

  test('produces and consumes over mutual TLS', async () => {
    const r = await python(
      broker.listeners.MTLS,
      roundTrip(
        {
          'security.protocol': 'SSL',
          'ssl.ca.location': certs.caFile,
          'ssl.certificate.location': client.certFile,
          'ssl.key.location': client.keyFile,
        },
        'py-mtls',
      ),
    );
    assert.deepEqual(lastJson(r), ['x', 'y'], r.stderr);
  });
});

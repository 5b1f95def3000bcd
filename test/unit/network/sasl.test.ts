/**
 * SASL on SASL_PLAINTEXT listeners, driven byte by byte: SaslHandshake v0 and v1, SaslAuthenticate with
 * PLAIN and SCRAM, what is refused before authentication, failed authentications (delayed, counted, the
 * connection closed, other clients served), re-authentication (KIP-368), and the SCRAM credential APIs.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { saltPassword } from '../../../src/network/sasl/scram.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { SaslHandshakeApi } from '../../../src/protocol/generated/17-sasl-handshake.js';
import { ApiVersionsApi } from '../../../src/protocol/generated/18-api-versions.js';
import { SaslAuthenticateApi } from '../../../src/protocol/generated/36-sasl-authenticate.js';
import { DescribeUserScramCredentialsApi } from '../../../src/protocol/generated/50-describe-user-scram-credentials.js';
import { AlterUserScramCredentialsApi } from '../../../src/protocol/generated/51-alter-user-scram-credentials.js';
import { type EmbeddedBroker, startBroker } from '../../../src/testing/start-broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ScramClient } from '../../helpers/scram-client.js';

const brokers: EmbeddedBroker[] = [];
after(async () => {
  for (const b of brokers) await b.stop();
});

async function saslBroker(config: Record<string, string | number> = {}, storage: 'memory' | 'disk' = 'memory') {
  const broker = await startBroker({
    storage,
    users: [
      { name: 'alice', password: 'alice-secret', mechanism: 'SCRAM-SHA-512' },
      { name: 'sam', password: 'sam-secret', mechanism: 'SCRAM-SHA-256' },
    ],
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      'listener.name.sasl_plaintext.plain.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_paul="paul-secret";',
      ...config,
    },
  });
  brokers.push(broker);
  return broker;
}

function saslPort(broker: EmbeddedBroker): number {
  return Number(broker.listeners.SASL_PLAINTEXT.split(':')[1]);
}

const METADATA = { ...MetadataApi.defaultRequest(), topics: [] };

async function handshake(client: RawClient, mechanism: string, version = 1) {
  return await client.request(SaslHandshakeApi, version, { mechanism });
}

async function authenticate(client: RawClient, token: Buffer, version = 2) {
  return await client.request(SaslAuthenticateApi, version, { authBytes: token });
}

async function scramLogin(
  client: RawClient,
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
  user: string,
  password: string,
) {
  assert.equal((await handshake(client, mechanism)).errorCode, ErrorCode.NONE);
  const scram = new ScramClient(mechanism, user, password);
  const first = await authenticate(client, scram.first());
  assert.equal(first.errorCode, ErrorCode.NONE, first.errorMessage ?? '');
  const last = await authenticate(client, scram.final(first.authBytes));
  return { last, scram };
}

const plainToken = (user: string, password: string) => Buffer.from(`\u0000${user}\u0000${password}`);

test('SCRAM-SHA-512 and SCRAM-SHA-256 users authenticate, and the server proves it knows the credential', async () => {
  const broker = await saslBroker();
  for (const [mechanism, user, password] of [
    ['SCRAM-SHA-512', 'alice', 'alice-secret'],
    ['SCRAM-SHA-256', 'sam', 'sam-secret'],
  ] as const) {
    const client = await RawClient.connect(saslPort(broker));
    const { last, scram } = await scramLogin(client, mechanism, user, password);
    assert.equal(last.errorCode, ErrorCode.NONE, last.errorMessage ?? '');
    assert.ok(scram.verify(last.authBytes), 'the server signature checks out');
    const metadata = await client.request(MetadataApi, 1, METADATA);
    assert.equal(metadata.brokers[0].port, saslPort(broker), 'Metadata advertises the listener connected to');
    client.socket.destroy();
  }
  assert.equal(broker.broker.authentications.successful, 2);
});

test('a request other than ApiVersions or SaslHandshake before authentication closes the connection unanswered', async () => {
  const broker = await saslBroker();
  const client = await RawClient.connect(saslPort(broker));
  const versions = await client.request(ApiVersionsApi, 3, {
    clientSoftwareName: 'raw-client',
    clientSoftwareVersion: '1',
  });
  const keys = versions.apiKeys.map((k) => k.apiKey);
  for (const key of [17, 36, 50, 51]) assert.ok(keys.includes(key), `ApiVersions lists api ${key}`);
  client.sendRequest(MetadataApi, 1, METADATA);
  assert.equal(await client.nextFrame(), null);
  assert.ok(client.isClosed);

  // After SaslHandshake, only SaslAuthenticate is taken.
  const second = await RawClient.connect(saslPort(broker));
  await handshake(second, 'PLAIN');
  second.sendRequest(MetadataApi, 1, METADATA);
  assert.equal(await second.nextFrame(), null);
  assert.ok(second.isClosed);
});

test('a PLAINTEXT listener of the same broker serves without authentication and answers SaslHandshake ILLEGAL_SASL_STATE', async () => {
  const broker = await saslBroker();
  const client = await RawClient.connect(broker.port);
  assert.equal((await client.request(MetadataApi, 1, METADATA)).brokers[0].port, broker.port);
  assert.equal((await handshake(client, 'PLAIN')).errorCode, ErrorCode.ILLEGAL_SASL_STATE);
  client.socket.destroy();
});

test('an unsupported mechanism is answered UNSUPPORTED_SASL_MECHANISM with the enabled ones, then the connection closes', async () => {
  const broker = await saslBroker({ 'sasl.enabled.mechanisms': 'SCRAM-SHA-512' });
  const client = await RawClient.connect(saslPort(broker));
  const answer = await handshake(client, 'GSSAPI');
  assert.equal(answer.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.deepEqual(answer.mechanisms, ['SCRAM-SHA-512']);
  await client.closed;
});

test('a wrong password is answered SASL_AUTHENTICATION_FAILED after the delay, counted, and closes only that connection', async () => {
  const broker = await saslBroker({ 'connection.failed.authentication.delay.ms': 1000 });
  const other = await RawClient.connect(saslPort(broker));
  await scramLogin(other, 'SCRAM-SHA-512', 'alice', 'alice-secret');

  const client = await RawClient.connect(saslPort(broker));
  await handshake(client, 'SCRAM-SHA-512');
  const scram = new ScramClient('SCRAM-SHA-512', 'alice', 'wrong');
  const first = await authenticate(client, scram.first());
  const started = Date.now();
  client.sendRequest(SaslAuthenticateApi, 2, { authBytes: scram.final(first.authBytes) });
  // While that answer is held back, the other client is served.
  const served = await other.request(MetadataApi, 1, METADATA);
  assert.equal(served.brokers.length, 1);
  assert.equal(await client.nextFrame(0), null, 'the other client was served while the failure was held back');
  const frame = await client.nextFrame();
  assert.ok(frame);
  assert.ok(Date.now() - started >= 900, `answered after ${Date.now() - started} ms`);
  const { decodeResponseFrame } = await import('../../helpers/raw-client.js');
  const failed = decodeResponseFrame(SaslAuthenticateApi, 2, frame).body;
  assert.equal(failed.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.equal(
    failed.errorMessage,
    'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512',
  );
  await client.closed;
  assert.equal(broker.broker.authentications.failed, 1);

  // An unknown user gets the same answer: nothing tells it the user does not exist.
  const stranger = await RawClient.connect(saslPort(broker));
  await handshake(stranger, 'SCRAM-SHA-512');
  const unknown = await authenticate(stranger, new ScramClient('SCRAM-SHA-512', 'mallory', 'x').first());
  assert.equal(unknown.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.equal(unknown.errorMessage, failed.errorMessage);
  other.socket.destroy();
});

test('PLAIN checks the JAAS users of the listener, then the SCRAM credentials, with Kafka’s messages', async () => {
  const broker = await saslBroker({ 'connection.failed.authentication.delay.ms': 0 });
  for (const [user, password] of [
    ['paul', 'paul-secret'],
    ['alice', 'alice-secret'],
  ]) {
    const client = await RawClient.connect(saslPort(broker));
    await handshake(client, 'PLAIN');
    const answer = await authenticate(client, plainToken(user, password));
    assert.equal(answer.errorCode, ErrorCode.NONE, `${user}: ${answer.errorMessage}`);
    assert.equal((await client.request(MetadataApi, 1, METADATA)).brokers.length, 1);
    client.socket.destroy();
  }
  const cases: Array<[Buffer, string]> = [
    [plainToken('paul', 'nope'), 'Authentication failed: Invalid username or password'],
    [plainToken('', 'x'), 'Authentication failed: username not specified'],
    [Buffer.from('only-one-token'), 'Invalid SASL/PLAIN response: expected 3 tokens, got 1'],
  ];
  for (const [token, message] of cases) {
    const client = await RawClient.connect(saslPort(broker));
    await handshake(client, 'PLAIN');
    const answer = await authenticate(client, token);
    assert.equal(answer.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(answer.errorMessage, message);
    await client.closed;
  }
});

test('after SaslHandshake v0 the tokens are raw size-prefixed frames without request headers', async () => {
  const broker = await saslBroker();
  const client = await RawClient.connect(saslPort(broker));
  assert.equal((await handshake(client, 'SCRAM-SHA-512', 0)).errorCode, ErrorCode.NONE);
  const scram = new ScramClient('SCRAM-SHA-512', 'alice', 'alice-secret');
  const raw = (token: Buffer) => {
    const frame = Buffer.alloc(4 + token.length);
    frame.writeInt32BE(token.length, 0);
    token.copy(frame, 4);
    return frame;
  };
  await client.send(raw(scram.first()));
  const serverFirst = await client.nextFrame();
  assert.ok(serverFirst?.toString().startsWith('r='), String(serverFirst));
  await client.send(raw(scram.final(serverFirst!)));
  const serverFinal = await client.nextFrame();
  assert.ok(serverFinal && scram.verify(serverFinal));
  assert.equal((await client.request(MetadataApi, 1, METADATA)).brokers.length, 1);

  // A wrong raw token is not answered: the connection closes.
  const bad = await RawClient.connect(saslPort(broker));
  await handshake(bad, 'PLAIN', 0);
  await bad.send(raw(plainToken('paul', 'wrong')));
  assert.equal(await bad.nextFrame(), null);
  client.socket.destroy();
});

test('with connections.max.reauth.ms the session lifetime is sent, re-authentication works, and an expired session closes at its next request', async () => {
  const broker = await saslBroker({ 'connections.max.reauth.ms': 300 });
  const client = await RawClient.connect(saslPort(broker));
  const { last } = await scramLogin(client, 'SCRAM-SHA-512', 'alice', 'alice-secret');
  assert.equal(last.sessionLifetimeMs, 300n);
  // Re-authenticate on the same connection, as the same user.
  const again = await scramLogin(client, 'SCRAM-SHA-512', 'alice', 'alice-secret');
  assert.equal(again.last.errorCode, ErrorCode.NONE);
  assert.equal(broker.broker.authentications.reauthenticated, 1);
  assert.equal((await client.request(MetadataApi, 1, METADATA)).brokers.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 400));
  client.sendRequest(MetadataApi, 1, METADATA);
  assert.equal(await client.nextFrame(), null, 'the expired session is closed, not answered');
  assert.ok(client.isClosed);

  // Re-authenticating as someone else fails.
  const other = await RawClient.connect(saslPort(broker));
  await scramLogin(other, 'SCRAM-SHA-512', 'alice', 'alice-secret');
  const swap = await scramLogin(other, 'SCRAM-SHA-256', 'sam', 'sam-secret').catch(() => null);
  assert.ok(swap === null || swap.last.errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED);
});

test('AlterUserScramCredentials stores a salted credential in the data directory, DescribeUserScramCredentials lists it, and the user logs in', async () => {
  const broker = await saslBroker({}, 'disk');
  const admin = await RawClient.connect(broker.port);
  const salt = Buffer.from('0123456789abcdef');
  const saltedPassword = await saltPassword('SCRAM-SHA-256', 'carol-secret', salt, 8192);
  const altered = await admin.request(AlterUserScramCredentialsApi, 0, {
    deletions: [{ name: 'nobody', mechanism: 1 }],
    upsertions: [
      { name: 'carol', mechanism: 1, iterations: 8192, salt, saltedPassword },
      { name: 'dave', mechanism: 1, iterations: 100, salt, saltedPassword },
      { name: 'erin', mechanism: 9, iterations: 8192, salt, saltedPassword },
    ],
  });
  const byUser = Object.fromEntries(altered.results.map((r) => [r.user, r]));
  assert.equal(byUser.carol.errorCode, ErrorCode.NONE);
  assert.equal(byUser.nobody.errorCode, ErrorCode.RESOURCE_NOT_FOUND);
  assert.equal(byUser.dave.errorCode, ErrorCode.UNACCEPTABLE_CREDENTIAL);
  assert.equal(byUser.dave.errorMessage, 'Too few iterations');
  assert.equal(byUser.erin.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);

  const described = await admin.request(DescribeUserScramCredentialsApi, 0, { users: null });
  const carol = described.results.find((r) => r.user === 'carol');
  assert.deepEqual(carol?.credentialInfos, [{ mechanism: 1, iterations: 8192 }]);
  const missing = await admin.request(DescribeUserScramCredentialsApi, 0, { users: [{ name: 'zed' }] });
  assert.equal(missing.results[0].errorCode, ErrorCode.RESOURCE_NOT_FOUND);

  const file = await readFile(
    join((broker.broker.config['log.dirs'] as string[])[0], 'scram-credentials.json'),
    'utf8',
  );
  assert.ok(file.includes('"carol"'));
  assert.ok(!file.includes('carol-secret'), 'the password is not stored');

  const client = await RawClient.connect(saslPort(broker));
  const { last } = await scramLogin(client, 'SCRAM-SHA-256', 'carol', 'carol-secret');
  assert.equal(last.errorCode, ErrorCode.NONE, last.errorMessage ?? '');
  client.socket.destroy();
  admin.socket.destroy();
});

test('malformed SASL tokens and frames, in every state of the exchange, never crash the broker', async () => {
  const broker = await saslBroker({ 'connection.failed.authentication.delay.ms': 0 });
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const garbage = () => {
    const texts = [
      'n,,n=alice,r=',
      'c=biws,r=',
      'n,a=x,n=,r=,',
      '\u0000\u0000\u0000',
      'p=@@@',
      'n,,n=a=ZZ,r=abc',
      'y,,n=a,r=b',
    ];
    const bytes = Buffer.alloc(random() % 64);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random() & 0xff;
    return random() % 2 === 0 ? bytes : Buffer.concat([Buffer.from(texts[random() % texts.length]), bytes]);
  };
  for (let i = 0; i < 60; i++) {
    const client = await RawClient.connect(saslPort(broker));
    const mechanism = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'][i % 3];
    const legacy = i % 4 === 0;
    await client.request(SaslHandshakeApi, legacy ? 0 : 1, { mechanism });
    if (legacy) {
      const token = garbage();
      const frame = Buffer.alloc(4 + token.length);
      frame.writeInt32BE(token.length, 0);
      token.copy(frame, 4);
      await client.send(frame);
      await client.nextFrame(2000);
    } else if (mechanism !== 'PLAIN' && i % 2 === 0) {
      // A valid first step, then garbage as the final message.
      const first = await authenticate(client, new ScramClient(mechanism as 'SCRAM-SHA-512', 'alice', 'x').first());
      if (first.errorCode === ErrorCode.NONE) await authenticate(client, garbage()).catch(() => null);
    } else {
      await authenticate(client, garbage()).catch(() => null);
    }
    client.socket.destroy();
  }
  const client = await RawClient.connect(saslPort(broker));
  const { last } = await scramLogin(client, 'SCRAM-SHA-512', 'alice', 'alice-secret');
  assert.equal(last.errorCode, ErrorCode.NONE);
  client.socket.destroy();
});

test('a SCRAM final message that repeats the client nonce before the server’s is accepted, as Kafka accepts librdkafka’s', async () => {
  const broker = await saslBroker();
  const client = await RawClient.connect(saslPort(broker));
  await handshake(client, 'SCRAM-SHA-512');
  const scram = new ScramClient('SCRAM-SHA-512', 'alice', 'alice-secret');
  const clientFirst = scram.first();
  const first = await authenticate(client, clientFirst);
  const clientNonce = /r=([^,]+)/.exec(clientFirst.toString())![1];
  // librdkafka 2.0's form: r=<client nonce><client nonce + server nonce>.
  const combined = /r=([^,]+)/.exec(first.authBytes.toString())![1];
  const last = await authenticate(client, scram.final(first.authBytes, clientNonce + combined));
  assert.equal(last.errorCode, ErrorCode.NONE, last.errorMessage ?? '');
  client.socket.destroy();
});

test('the Prometheus metrics count successful and failed authentications', async () => {
  const broker = await saslBroker({
    'admin.http.listener': '127.0.0.1:0',
    'connection.failed.authentication.delay.ms': 0,
  });
  const good = await RawClient.connect(saslPort(broker));
  await scramLogin(good, 'SCRAM-SHA-512', 'alice', 'alice-secret');
  const bad = await RawClient.connect(saslPort(broker));
  await handshake(bad, 'PLAIN');
  await authenticate(bad, plainToken('paul', 'wrong'));
  const { text } = await broker.broker.metrics.scrape();
  assert.match(text, /^sluice_successful_authentication_total 1$/m);
  assert.match(text, /^sluice_failed_authentication_total 1$/m);
  assert.match(text, /^sluice_successful_reauthentication_total 0$/m);
  good.socket.destroy();
});

test('OAUTHBEARER accepts a JWT signed by a JWKS key, and refuses expired, forged or foreign tokens as Kafka does', async () => {
  const { makeIssuer, oauthBearerToken } = await import('../../helpers/jwt.js');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-jwks-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const issuer = makeIssuer();
  const jwks = join(dir, 'jwks.json');
  await issuer.writeJwks(jwks);
  const broker = await saslBroker({
    'sasl.enabled.mechanisms': 'OAUTHBEARER,SCRAM-SHA-512',
    'sasl.oauthbearer.jwks.endpoint.url': `file://${jwks}`,
    'sasl.oauthbearer.expected.audience': 'kafka',
    'connection.failed.authentication.delay.ms': 0,
    'connections.max.reauth.ms': 3_600_000,
  });
  const expiresIn = 120;
  for (const alg of ['RS256', 'ES256'] as const) {
    const client = await RawClient.connect(saslPort(broker));
    assert.equal((await handshake(client, 'OAUTHBEARER')).errorCode, ErrorCode.NONE);
    const token = issuer.token(
      { sub: 'svc-orders', aud: 'kafka', exp: Math.floor(Date.now() / 1000) + expiresIn },
      { alg },
    );
    const answer = await authenticate(client, oauthBearerToken(token));
    assert.equal(answer.errorCode, ErrorCode.NONE, answer.errorMessage ?? '');
    // The session ends with the token, before connections.max.reauth.ms.
    assert.ok(answer.sessionLifetimeMs > 100_000n && answer.sessionLifetimeMs <= BigInt(expiresIn * 1000));
    assert.equal((await client.request(MetadataApi, 1, METADATA)).brokers.length, 1);
    client.socket.destroy();
  }
  const stranger = (await import('../../helpers/jwt.js')).makeIssuer();
  for (const token of [
    issuer.token({ sub: 'svc', aud: 'kafka', exp: Math.floor(Date.now() / 1000) - 3600 }),
    issuer.token({ sub: 'svc', aud: 'elsewhere' }),
    stranger.token({ sub: 'svc', aud: 'kafka' }),
    'not.a.jwt',
  ]) {
    const client = await RawClient.connect(saslPort(broker));
    await handshake(client, 'OAUTHBEARER');
    const challenge = await authenticate(client, oauthBearerToken(token));
    assert.equal(challenge.errorCode, ErrorCode.NONE);
    assert.equal(challenge.authBytes.toString(), '{"status":"invalid_token"}');
    const failed = await authenticate(client, Buffer.from([1]));
    assert.equal(failed.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED);
    assert.equal(failed.errorMessage, '{"status":"invalid_token"}');
    await client.closed;
  }
  assert.equal(broker.broker.authentications.failed, 4);
});

/**
 * TLS listeners: PEM key stores (file or inline), mutual TLS and the principal taken from the client
 * certificate (with ssl.principal.mapping.rules), TLS versions, a certificate replaced on disk served to
 * new connections without a restart, and garbage on a TLS port.
 */
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { after, before, test } from 'node:test';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import { loadConfig } from '../../../src/broker/config.js';
import { createLogger } from '../../../src/broker/logger.js';
import type { FrameHandler } from '../../../src/network/connection.js';
import { formatPrincipal } from '../../../src/network/principal.js';
import { KafkaServer, type ListenerOptions } from '../../../src/network/server.js';
import { mapPrincipalName, parsePrincipalMappingRules } from '../../../src/network/ssl-principal.js';
import { ListenerTls, type TlsSettings } from '../../../src/network/tls.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { startBroker } from '../../../src/testing/start-broker.js';
import { decodeResponseFrame, encodeRequestFrame } from '../../helpers/raw-client.js';
import { makeCertificates, type TestCertificates } from '../../helpers/tls-certs.js';

const quiet = { info() {}, warn() {}, debug() {} };
let certs: TestCertificates;
before(async () => {
  certs = await makeCertificates();
});
after(async () => {
  await certs?.remove();
});

function settings(overrides: Partial<TlsSettings> = {}): TlsSettings {
  return {
    keystoreType: 'PEM',
    keystoreLocation: certs.serverKeystore,
    keystorePassword: null,
    keystoreKey: null,
    keystoreCertificateChain: null,
    keyPassword: null,
    truststoreLocation: certs.caFile,
    truststoreCertificates: null,
    clientAuth: 'none',
    enabledProtocols: ['TLSv1.2', 'TLSv1.3'],
    principalMappingRules: 'DEFAULT',
    ...overrides,
  };
}

/** Answers every frame with the connection's principal, e.g. `User:ANONYMOUS`. */
const principalEcho: FrameHandler = (_frame, ctx) => {
  const text = Buffer.from(formatPrincipal(ctx.security!.principal));
  const out = Buffer.alloc(4 + text.length);
  out.writeInt32BE(text.length, 0);
  text.copy(out, 4);
  return out;
};

async function tlsServer(tls: TlsSettings): Promise<{ port: number; server: KafkaServer }> {
  const listener: ListenerOptions = {
    name: 'SSL',
    host: '127.0.0.1',
    port: 0,
    securityProtocol: 'SSL',
    tls: new ListenerTls('SSL', tls, quiet),
  };
  const server = new KafkaServer({
    listeners: [listener],
    handler: principalEcho,
    logger: quiet,
    maxRequestBytes: 1024,
    maxQueuedRequests: 10,
    maxConnections: 100,
    maxConnectionsPerIp: 100,
    idleTimeoutMs: -1,
  });
  const [bound] = await server.listen();
  return { port: bound.port, server };
}

function tlsConnect(port: number, options: ConnectionOptions = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ca: certs.ca, servername: 'localhost', ...options }, () =>
      resolve(socket),
    );
    socket.once('error', reject);
  });
}

/** Sends one frame and reads the principal the server answers with; rejects if the server refuses. */
async function principalOver(socket: TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0))
        resolve(buf.subarray(4, 4 + buf.readInt32BE(0)).toString());
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed')));
    socket.write(Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]));
  });
}

test('an SSL listener serves TLS from a PEM key store file, and clients without a certificate are ANONYMOUS', async () => {
  const { port, server } = await tlsServer(settings());
  const socket = await tlsConnect(port);
  assert.equal(await principalOver(socket), 'User:ANONYMOUS');
  assert.equal(socket.getPeerX509Certificate()?.subject, 'CN=localhost');
  socket.destroy();
  await server.close();
});

test('the key and certificate chain may be given inline (ssl.keystore.key, ssl.keystore.certificate.chain)', async () => {
  const { port, server } = await tlsServer(
    settings({ keystoreLocation: null, keystoreKey: certs.serverKey, keystoreCertificateChain: certs.serverCert }),
  );
  const socket = await tlsConnect(port);
  assert.equal(await principalOver(socket), 'User:ANONYMOUS');
  socket.destroy();
  await server.close();
});

test('with ssl.client.auth=required a client needs a certificate the trust store vouches for; its subject is the principal', async () => {
  const { port, server } = await tlsServer(settings({ clientAuth: 'required' }));
  const client = await certs.client('/C=US/O=Example/OU=Eng/CN=alice');
  const socket = await tlsConnect(port, { key: client.key, cert: client.cert });
  assert.equal(await principalOver(socket), 'User:CN=alice,OU=Eng,O=Example,C=US');
  socket.destroy();

  // TLS 1.3 reports a refused client certificate after the handshake: the first exchange fails either way.
  const refused = async (options: ConnectionOptions) => {
    try {
      const s = await tlsConnect(port, options);
      await principalOver(s);
      return false;
    } catch {
      return true;
    }
  };
  assert.ok(await refused({}), 'no certificate');
  const stranger = await certs.client('/CN=mallory', { untrusted: true });
  assert.ok(await refused({ key: stranger.key, cert: stranger.cert }), 'a certificate from another CA');
  await server.close();
});

test('ssl.principal.mapping.rules map the subject to the principal name, as Kafka’s rules do', async () => {
  const { port, server } = await tlsServer(
    settings({ clientAuth: 'requested', principalMappingRules: 'RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/L, DEFAULT' }),
  );
  const client = await certs.client('/O=Example/OU=Eng/CN=Alice');
  const socket = await tlsConnect(port, { key: client.key, cert: client.cert });
  assert.equal(await principalOver(socket), 'User:alice@eng');
  socket.destroy();
  const anonymous = await tlsConnect(port);
  assert.equal(await principalOver(anonymous), 'User:ANONYMOUS', 'requested: a client may come without one');
  anonymous.destroy();
  await server.close();

  const rules = parsePrincipalMappingRules('RULE:^CN=([a-z]+),O=x$/$1/U,RULE:^CN=(.*)$/$1/');
  assert.equal(mapPrincipalName(rules, 'CN=bob,O=x'), 'BOB');
  assert.equal(mapPrincipalName(rules, 'CN=a,b'), 'a,b');
  assert.equal(mapPrincipalName(rules, 'OU=none'), null, 'no rule applies: the connection is refused');
  assert.throws(() => parsePrincipalMappingRules('RULE:broken'), /invalid rule/);
});

test('ssl.enabled.protocols=TLSv1.3 refuses a TLS 1.2 client', async () => {
  const { port, server } = await tlsServer(settings({ enabledProtocols: ['TLSv1.3'] }));
  await assert.rejects(tlsConnect(port, { maxVersion: 'TLSv1.2' }));
  const socket = await tlsConnect(port);
  assert.equal(socket.getProtocol(), 'TLSv1.3');
  socket.destroy();
  await server.close();
});

test('a certificate replaced on disk is served to new connections without a restart', async () => {
  const tls = settings();
  const { port, server } = await tlsServer(tls);
  const first = await tlsConnect(port);
  assert.equal(first.getPeerX509Certificate()?.subject, 'CN=localhost');
  await certs.renewServer('renewed.localhost');
  let subject = '';
  for (let i = 0; i < 100 && subject !== 'CN=renewed.localhost'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const s = await tlsConnect(port);
    subject = s.getPeerX509Certificate()?.subject ?? '';
    s.destroy();
  }
  assert.equal(subject, 'CN=renewed.localhost');
  assert.equal(await principalOver(first), 'User:ANONYMOUS', 'the connection opened before keeps working');
  first.destroy();
  await server.close();
});

test('plaintext bytes and garbage on a TLS port close that connection and the listener keeps serving', async () => {
  const { port, server } = await tlsServer(settings());
  for (const garbage of [
    Buffer.from([0, 0, 0, 8, 0, 18, 0, 0, 0, 0, 0, 1]),
    Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3]),
  ]) {
    const socket = netConnect(port, '127.0.0.1');
    socket.on('error', () => {});
    // Read, to see the broker's close; end(): a truncated TLS record would otherwise wait for its rest.
    socket.resume();
    socket.end(garbage);
    await new Promise((resolve) => socket.once('close', resolve));
  }
  const socket = await tlsConnect(port);
  assert.equal(await principalOver(socket), 'User:ANONYMOUS');
  socket.destroy();
  await server.close();
});

test('a broker serves PLAINTEXT and SSL listeners at once, and Metadata answers the address of the listener connected to', async () => {
  const broker = await startBroker({
    config: {
      listeners: 'PLAINTEXT://127.0.0.1:0,CLIENTS://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CLIENTS:SSL',
      'listener.name.clients.ssl.keystore.location': certs.serverKeystore,
    },
  });
  try {
    const sslPort = Number(broker.listeners.CLIENTS.split(':')[1]);
    const socket = await tlsConnect(sslPort);
    const answer = await new Promise<Buffer>((resolve) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) resolve(buf.subarray(4));
      });
      socket.write(encodeRequestFrame(MetadataApi, 1, { ...MetadataApi.defaultRequest(), topics: [] }));
    });
    const metadata = decodeResponseFrame(MetadataApi, 1, answer).body;
    assert.equal(metadata.brokers[0].port, sslPort);
    assert.notEqual(sslPort, broker.port);
    socket.destroy();
  } finally {
    await broker.stop();
  }
});

test('an SSL listener without a key store, or a listener without a security protocol, fails start-up with what to set', async () => {
  await assert.rejects(
    loadConfig({ overrides: { listeners: 'SSL://127.0.0.1:0' } }),
    /listener SSL uses SSL but has no certificate: set listener\.name\.ssl\.ssl\.keystore\.location/,
  );
  await assert.rejects(
    loadConfig({ overrides: { listeners: 'CLIENTS://127.0.0.1:0' } }),
    /listener CLIENTS has no security protocol: add CLIENTS:PLAINTEXT/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'listener.security.protocol.map': 'PLAINTEXT:TLS' } }),
    /invalid entry "PLAINTEXT:TLS"/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'listener.name.sasl_ssl.ssl.keystore.flavour': 'x' } }),
    /unknown setting "listener\.name\.sasl_ssl\.ssl\.keystore\.flavour"/,
  );
  await assert.rejects(
    loadConfig({ overrides: { 'listener.name.sasl_plaintext.plain.sasl.jaas.config': 'PlainLoginModule maybe;' } }),
    /"maybe" is not a control flag/,
  );
  const ok = await loadConfig({
    overrides: {
      listeners: 'SSL://127.0.0.1:0',
      'listener.name.SSL.ssl.keystore.location': '/etc/kafka/broker.pem',
      'listener.name.SSL.ssl.client.auth': 'required',
    },
  });
  assert.equal((ok as Record<string, unknown>)['listener.name.ssl.ssl.client.auth'], 'required');
});

test('keys and passwords given as settings never appear in the start-up line', async () => {
  let logged = '';
  const logger = createLogger('info', { destination: { write: (line: string) => (logged += line) } });
  const broker = await startBroker({
    logger,
    config: {
      listeners: 'SASL_SSL://127.0.0.1:0',
      'ssl.keystore.key': certs.serverKey,
      'ssl.keystore.certificate.chain': certs.serverCert,
      'listener.name.sasl_ssl.plain.sasl.jaas.config':
        'org.apache.kafka.common.security.plain.PlainLoginModule required user_paul="paul-secret";',
      'sasl.enabled.mechanisms': 'PLAIN',
    },
  });
  await broker.stop();
  assert.match(logged, /listening on SASL_SSL/);
  assert.match(logged, /"ssl.keystore.key":"\(hidden\) \(override\)"/);
  assert.ok(!logged.includes('PRIVATE KEY'), 'the private key is not logged');
  assert.ok(!logged.includes('paul-secret'), 'the JAAS password is not logged');
});

test('an encrypted private key opens with ssl.key.password, and trusted CAs may be given inline', async () => {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { readFile, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const plainKey = join(certs.dir, 'plain.key');
  const encryptedKey = join(certs.dir, 'encrypted.key');
  await writeFile(plainKey, certs.serverKey);
  await promisify(execFile)('openssl', [
    'pkcs8',
    '-topk8',
    '-v2',
    'aes-256-cbc',
    '-in',
    plainKey,
    '-out',
    encryptedKey,
    '-passout',
    'pass:key-secret',
  ]);
  const keystore = join(certs.dir, 'encrypted-keystore.pem');
  await writeFile(keystore, (await readFile(encryptedKey, 'utf8')) + certs.serverCert);
  const wrong = new ListenerTls('SSL', settings({ keystoreLocation: keystore, keyPassword: 'nope' }), quiet);
  await assert.rejects(
    wrong.serverOptions(),
    /listener SSL: cannot use its TLS key and certificates.*ssl\.key\.password/,
  );

  const { port, server } = await tlsServer(
    settings({
      keystoreLocation: keystore,
      keyPassword: 'key-secret',
      clientAuth: 'required',
      truststoreLocation: null,
      truststoreCertificates: certs.ca,
    }),
  );
  const client = await certs.client('/CN=inline');
  const socket = await tlsConnect(port, { key: client.key, cert: client.cert });
  assert.equal(await principalOver(socket), 'User:CN=inline');
  socket.destroy();
  await server.close();
});

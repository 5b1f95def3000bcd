/**
 * Test certificates made with openssl: a CA, a server certificate for 127.0.0.1/localhost and client
 * certificates, all signed by the CA, in a temporary directory. EC P-256 keys: quick to make.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificates {
  dir: string;
  /** CA certificate (PEM file) */
  caFile: string;
  ca: string;
  /** Server key and certificate in one PEM file, as ssl.keystore.location takes it. */
  serverKeystore: string;
  serverKey: string;
  serverCert: string;
  /** Makes a client key and certificate signed by the CA (or by a stranger CA when `untrusted`). */
  client(
    subject: string,
    options?: { untrusted?: boolean },
  ): Promise<{ key: string; cert: string; keyFile: string; certFile: string }>;
  /** Writes a new server certificate (with `cn`) over serverKeystore. */
  renewServer(cn: string): Promise<void>;
  remove(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'));
  const file = (name: string) => join(dir, name);
  await run('openssl', [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=Sluice Test CA',
  ]);
  let serial = 1;
  const signed = async (name: string, subject: string, ext: string | null, caName = 'ca') => {
    await run('openssl', ['req', ...EC, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', subject]);
    const args = [
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${caName}.pem`),
      '-CAkey',
      file(`${caName}.key`),
      '-set_serial',
      String(serial++),
      '-out',
      file(`${name}.pem`),
      '-days',
      '2',
    ];
    if (ext !== null) {
      await writeFile(file(`${name}.ext`), ext);
      args.push('-extfile', file(`${name}.ext`));
    }
    await run('openssl', args);
    return { key: await readFile(file(`${name}.key`), 'utf8'), cert: await readFile(file(`${name}.pem`), 'utf8') };
  };
  const renewServer = async (cn: string) => {
    const { key, cert } = await signed(`server-${serial}`, `/CN=${cn}`, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    // Written whole under another name, then renamed: what certificate tools do.
    await writeFile(file('server.tmp'), key + cert);
    const { rename } = await import('node:fs/promises');
    await rename(file('server.tmp'), file('server-keystore.pem'));
  };
  const { key: serverKey, cert: serverCert } = await signed(
    'server',
    '/CN=localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  await writeFile(file('server-keystore.pem'), serverKey + serverCert);
  let strangerMade = false;
  return {
    dir,
    caFile: file('ca.pem'),
    ca: await readFile(file('ca.pem'), 'utf8'),
    serverKeystore: file('server-keystore.pem'),
    serverKey,
    serverCert,
    async client(subject, options = {}) {
      const name = `client-${serial}`;
      let caName = 'ca';
      if (options.untrusted) {
        if (!strangerMade) {
          await run('openssl', [
            'req',
            '-x509',
            ...EC,
            '-keyout',
            file('stranger.key'),
            '-out',
            file('stranger.pem'),
            '-days',
            '2',
            '-subj',
            '/CN=Stranger CA',
          ]);
          strangerMade = true;
        }
        caName = 'stranger';
      }
      const { key, cert } = await signed(name, subject, null, caName);
      return { key, cert, keyFile: file(`${name}.key`), certFile: file(`${name}.pem`) };
    },
    renewServer,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

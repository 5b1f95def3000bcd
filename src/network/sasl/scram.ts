/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the server side, as Kafka's ScramSaslServer runs it:
 *
 *   client-first  n,,n=<user>,r=<client nonce>
 *   server-first  r=<client nonce><server nonce>,s=<salt>,i=<iterations>
 *   client-final  c=<channel binding>,r=<nonce>,p=<proof>
 *   server-final  v=<server signature>
 *
 * Only the salted credential (salt, StoredKey, ServerKey, iterations) is kept, never the password.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from './sasl-server.js';

const pbkdf2Async = promisify(pbkdf2);

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Kafka's bounds on iterations (ScramMechanism.minIterations, and the most AlterUserScramCredentials takes). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;

/** Kafka's numbering of the mechanisms in DescribeUserScramCredentials / AlterUserScramCredentials. */
export const SCRAM_MECHANISM_TYPES: Record<ScramMechanism, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export function isScramMechanism(name: string): name is ScramMechanism {
  return (SCRAM_MECHANISMS as readonly string[]).includes(name);
}

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  return SCRAM_MECHANISMS.find((m) => SCRAM_MECHANISM_TYPES[m] === type);
}

function hashName(mechanism: ScramMechanism): 'sha256' | 'sha512' {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

/** The credential kept for a salted password (what AlterUserScramCredentials sends). */
export function credentialFromSaltedPassword(
  mechanism: ScramMechanism,
  saltedPassword: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const hash = hashName(mechanism);
  const clientKey = createHmac(hash, saltedPassword).update('Client Key').digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const serverKey = createHmac(hash, saltedPassword).update('Server Key').digest();
  return { salt, storedKey, serverKey, iterations };
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC of the mechanism's hash. */
export function saltPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  const hash = hashName(mechanism);
  const length = hash === 'sha256' ? 32 : 64;
  return pbkdf2Async(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, length, hash);
}

/** A new credential for a password, with a random salt. */
export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_MIN_ITERATIONS,
): Promise<ScramCredential> {
  const salt = randomBytes(32);
  return credentialFromSaltedPassword(
    mechanism,
    await saltPassword(mechanism, password, salt, iterations),
    salt,
    iterations,
  );
}

/** Whether `password` is the one `credential` was made from. */
export async function verifyPassword(
  mechanism: ScramMechanism,
  credential: ScramCredential,
  password: string,
): Promise<boolean> {
  const salted = await saltPassword(mechanism, password, credential.salt, credential.iterations);
  const { storedKey } = credentialFromSaltedPassword(mechanism, salted, credential.salt, credential.iterations);
  return timingSafeEqual(storedKey, credential.storedKey);
}

/** `=2C` and `=3D` in a SCRAM user name stand for `,` and `=`. */
function decodeSaslName(name: string): string {
  return name.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

const CLIENT_FIRST = /^n,(?:a=([^,]*))?,(?:m=[^,]*,)?n=([^,]+),r=([\x21-\x2b\x2d-\x7e]+)(?:,.*)?$/;
const CLIENT_FINAL = /^c=([A-Za-z0-9+/=]*),r=([\x21-\x2b\x2d-\x7e]+)(?:,[^,]*)*?,p=([A-Za-z0-9+/=]+)$/;

export class ScramServer implements SaslMechanismServer {
  private step: 'first' | 'final' | 'done' = 'first';
  private user = '';
  private credential: ScramCredential | undefined;
  private nonce = '';
  private clientFirstBare = '';
  private serverFirst = '';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: (user: string, mechanism: ScramMechanism) => ScramCredential | undefined,
  ) {}

  get authorizationId(): string {
    return this.user;
  }

  async evaluate(token: Buffer): Promise<SaslStep> {
    const text = token.toString('utf8');
    if (this.step === 'first') return this.clientFirst(text);
    if (this.step === 'final') return this.clientFinal(text);
    throw new SaslAuthenticationError('Unexpected challenge in Sasl server state COMPLETE', true);
  }

  private clientFirst(text: string): SaslStep {
    const m = CLIENT_FIRST.exec(text);
    // Kafka's SaslException: the client hears only that its credentials were invalid.
    if (!m) throw new SaslAuthenticationError(`invalid SCRAM client-first message ${JSON.stringify(text)}`, false);
    const [, authzid, saslName, clientNonce] = m;
    const user = decodeSaslName(saslName);
    const credential = this.lookup(user, this.mechanism);
    if (!credential) throw new SaslAuthenticationError(`unknown user "${user}" for ${this.mechanism}`, false);
    if (authzid !== undefined && authzid !== '' && decodeSaslName(authzid) !== user)
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
        true,
      );
    this.user = user;
    this.credential = credential;
    this.nonce = clientNonce + randomBytes(24).toString('base64url');
    // The bare message is what follows the GS2 header `n,[a=<authzid>],`.
    this.clientFirstBare = text.slice(text.indexOf(',', 2) + 1);
    this.serverFirst = `r=${this.nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.step = 'final';
    return { challenge: Buffer.from(this.serverFirst, 'utf8'), complete: false };
  }

  private clientFinal(text: string): SaslStep {
    const m = CLIENT_FINAL.exec(text);
    if (!m) throw new SaslAuthenticationError('Authentication failed: Invalid client final message', false);
    const [, , nonce, proofText] = m;
    // Kafka only checks that the nonce ends with the one it sent: librdkafka up to 2.x repeats the client's
    // own nonce in front of it, and Kafka's brokers accept that.
    if (!nonce.endsWith(this.nonce))
      throw new SaslAuthenticationError('Invalid client nonce in the final client message.', false);
    const credential = this.credential!;
    const hash = hashName(this.mechanism);
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(hash, credential.storedKey).update(authMessage).digest();
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== clientSignature.length) throw new SaslAuthenticationError('Invalid client credentials', false);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    const storedKey = createHash(hash).update(clientKey).digest();
    if (!timingSafeEqual(storedKey, credential.storedKey))
      throw new SaslAuthenticationError(`wrong password for user "${this.user}"`, false);
    const serverSignature = createHmac(hash, credential.serverKey).update(authMessage).digest();
    this.step = 'done';
    return { challenge: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), complete: true };
  }
}

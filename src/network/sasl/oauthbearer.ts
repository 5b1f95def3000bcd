/**
 * SASL/OAUTHBEARER (RFC 7628) as Kafka's broker validates it with `sasl.oauthbearer.jwks.endpoint.url`:
 * the client's one message carries a JWT (`n,,^Aauth=Bearer <jwt>^A^A`), whose signature must verify
 * with a key of the JWKS file, which must not have expired (`exp`, with `sasl.oauthbearer.clock.skew.seconds`),
 * and whose audience and issuer must match when expected. The principal is the `sub` claim (or
 * `sasl.oauthbearer.sub.claim.name`). An invalid token is answered, as Kafka does, with the challenge
 * `{"status":"invalid_token"}`; the client acknowledges with ^A and then hears SASL_AUTHENTICATION_FAILED.
 * The session lasts no longer than the token (KIP-368).
 */
import { createPublicKey, constants as cryptoConstants, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from './sasl-server.js';

export interface OAuthBearerSettings {
  /** `sasl.oauthbearer.jwks.endpoint.url`: a file: URL or a path. */
  jwksLocation: string;
  expectedAudience: readonly string[] | null;
  expectedIssuer: string | null;
  subClaimName: string;
  clockSkewSeconds: number;
}

export interface OAuthLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const INVALID_TOKEN = '{"status":"invalid_token"}';
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 7628 separates the fields with ^A (0x01).
const CLIENT_FIRST = /^n,(?:a=([^,]*))?,\u0001((?:[A-Za-z]+=[\x21-\x7e \t\r\n]+\u0001)*)\u0001$/;
const AUTH = /^([\w]+) +([-_~+/.a-zA-Z0-9]+=*)$/;

const HASH: Record<string, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

/** The keys of a JWKS file, read again when the file changes. */
export class JwksValidator {
  private keys: Array<{ kid: string | undefined; key: KeyObject }> = [];
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  readonly file: string;

  constructor(
    readonly settings: OAuthBearerSettings,
    private readonly logger?: OAuthLogger,
  ) {
    this.file = settings.jwksLocation.startsWith('file:')
      ? fileURLToPath(settings.jwksLocation)
      : settings.jwksLocation;
  }

  async load(): Promise<void> {
    let parsed: { keys?: JsonWebKey[] };
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8')) as { keys?: JsonWebKey[] };
    } catch (err) {
      throw new Error(
        `cannot read the JWKS file ${this.file} (sasl.oauthbearer.jwks.endpoint.url): ${(err as Error).message}`,
      );
    }
    const keys: Array<{ kid: string | undefined; key: KeyObject }> = [];
    for (const jwk of parsed.keys ?? []) {
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      try {
        keys.push({ kid: jwk.kid as string | undefined, key: createPublicKey({ key: jwk, format: 'jwk' }) });
      } catch (err) {
        this.logger?.warn({ kid: jwk.kid, err: (err as Error).message }, 'skipping a JWKS key that cannot be read');
      }
    }
    if (keys.length === 0) throw new Error(`the JWKS file ${this.file} holds no signing key`);
    this.keys = keys;
  }

  watch(): void {
    const name = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.load().then(
            () => this.logger?.info({ file: this.file }, 'loaded the changed JWKS file'),
            (err: Error) =>
              this.logger?.warn(
                { err: err.message },
                'the JWKS file changed but cannot be used; keeping the keys read before',
              ),
          );
        }, 100);
        this.reloadTimer.unref();
      });
      this.watcher.unref();
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, 'cannot watch the JWKS file for changes');
    }
  }

  close(): void {
    this.watcher?.close();
    clearTimeout(this.reloadTimer);
  }

  /** The principal and expiry of a valid token; throws an Error saying why a token is not valid. */
  validate(token: string, nowMs: number): { principal: string; expiresAtMs: number } {
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('not a signed JWT (three dot-separated parts)');
    const [headerText, payloadText, signatureText] = parts;
    const header = decodeJson(headerText, 'header');
    const payload = decodeJson(payloadText, 'payload');
    const alg = String(header.alg);
    const hash = HASH[alg];
    if (hash === undefined) throw new Error(`signature algorithm ${alg} is not accepted`);
    const candidates = this.keys.filter((k) => header.kid === undefined || k.kid === header.kid);
    const data = Buffer.from(`${headerText}.${payloadText}`);
    const signature = Buffer.from(signatureText, 'base64url');
    const verified = candidates.some(({ key }) => {
      try {
        return verify(
          hash,
          data,
          {
            key,
            ...(alg.startsWith('PS')
              ? { padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST }
              : {}),
            ...(alg.startsWith('ES') ? { dsaEncoding: 'ieee-p1363' as const } : {}),
          },
          signature,
        );
      } catch {
        return false;
      }
    });
    if (!verified)
      throw new Error(`signature does not verify with ${header.kid === undefined ? 'any key' : `key ${header.kid}`}`);
    const skewMs = this.settings.clockSkewSeconds * 1000;
    if (typeof payload.exp !== 'number') throw new Error('no exp claim');
    if (payload.exp * 1000 + skewMs < nowMs) throw new Error('the token expired');
    if (typeof payload.nbf === 'number' && payload.nbf * 1000 - skewMs > nowMs)
      throw new Error('the token is not valid yet');
    const { expectedAudience, expectedIssuer, subClaimName } = this.settings;
    if (expectedAudience !== null) {
      const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!aud.some((a) => expectedAudience.includes(String(a)))) throw new Error('audience not expected');
    }
    if (expectedIssuer !== null && payload.iss !== expectedIssuer) throw new Error('issuer not expected');
    const subject = payload[subClaimName];
    if (typeof subject !== 'string' || subject === '') throw new Error(`no ${subClaimName} claim`);
    return { principal: subject, expiresAtMs: payload.exp * 1000 };
  }
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw new Error(`the JWT ${what} is not a JSON object`);
}

export class OAuthBearerServer implements SaslMechanismServer {
  readonly mechanism = 'OAUTHBEARER';
  private user = '';
  private failure: string | null = null;
  /** When the token expires: the session may not outlive it. */
  credentialExpiresAtMs: number | undefined;

  constructor(
    private readonly validator: JwksValidator,
    private readonly now: () => number,
  ) {}

  get authorizationId(): string {
    return this.user;
  }

  async evaluate(token: Buffer): Promise<SaslStep> {
    // The client's acknowledgement of the error challenge: now the exchange fails, with that error.
    if (token.length === 1 && token[0] === 1 && this.failure !== null)
      throw new SaslAuthenticationError(INVALID_TOKEN, true, `invalid token: ${this.failure}`);
    const m = CLIENT_FIRST.exec(token.toString('utf8'));
    if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message', false);
    const [, authzid, pairs] = m;
    const auth = pairs
      .split('\u0001')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
      .find(([k]) => k === 'auth')?.[1];
    const bearer = auth === undefined ? null : AUTH.exec(auth);
    if (bearer === null || bearer[1].toLowerCase() !== 'bearer')
      throw new SaslAuthenticationError('Invalid OAUTHBEARER client first message', false);
    let valid: { principal: string; expiresAtMs: number };
    try {
      valid = this.validator.validate(bearer[2], this.now());
    } catch (err) {
      this.failure = (err as Error).message;
      return { challenge: Buffer.from(INVALID_TOKEN), complete: false };
    }
    if (authzid !== undefined && authzid !== '' && authzid !== valid.principal)
      throw new SaslAuthenticationError(
        `Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${valid.principal})`,
        true,
      );
    this.user = valid.principal;
    this.credentialExpiresAtMs = valid.expiresAtMs;
    return { challenge: Buffer.alloc(0), complete: true };
  }
}

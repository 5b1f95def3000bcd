/** Signed JWTs and a JWKS file for OAUTHBEARER tests (RS256 with a fresh RSA key, ES256 with a P-256 key). */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

export interface TestIssuer {
  /** Writes the JWKS (public keys only) to `file`. */
  writeJwks(file: string): Promise<void>;
  /** A token with these claims (exp defaults to an hour from now), signed with the issuer's key. */
  token(claims: Record<string, unknown>, options?: { alg?: 'RS256' | 'ES256'; kid?: string }): string;
}

export function makeIssuer(): TestIssuer {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = (key: KeyObject, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });
  return {
    writeJwks: (file) =>
      writeFile(file, JSON.stringify({ keys: [jwk(rsa.publicKey, 'rsa-1'), jwk(ec.publicKey, 'ec-1')] })),
    token(claims, options = {}) {
      const alg = options.alg ?? 'RS256';
      const header = { alg, typ: 'JWT', kid: options.kid ?? (alg === 'RS256' ? 'rsa-1' : 'ec-1') };
      const body = { exp: Math.floor(Date.now() / 1000) + 3600, iat: Math.floor(Date.now() / 1000), ...claims };
      const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const data = `${encode(header)}.${encode(body)}`;
      const signature =
        alg === 'RS256'
          ? sign('sha256', Buffer.from(data), rsa.privateKey)
          : sign('sha256', Buffer.from(data), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' });
      return `${data}.${signature.toString('base64url')}`;
    },
  };
}

/** OAUTHBEARER's client first message (RFC 7628). */
export function oauthBearerToken(jwt: string): Buffer {
  return Buffer.from(`n,,\u0001auth=Bearer ${jwt}\u0001\u0001`);
}

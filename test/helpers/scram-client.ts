/** The client side of SCRAM (RFC 5802), for tests that drive the exchange by hand. */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export class ScramClient {
  private readonly nonce = randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private serverSignature: Buffer | null = null;

  constructor(
    private readonly mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
    private readonly user: string,
    private readonly password: string,
  ) {}

  first(): Buffer {
    this.clientFirstBare = `n=${this.user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`);
  }

  /** The client-final message; `nonce` replaces the one it echoes (to mimic clients that get it wrong). */
  final(serverFirst: Buffer, nonce?: string): Buffer {
    const text = serverFirst.toString();
    const fields = Object.fromEntries(text.split(',').map((f) => [f[0], f.slice(2)]));
    const hash = this.mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const salted = pbkdf2Sync(
      this.password,
      Buffer.from(fields.s, 'base64'),
      Number(fields.i),
      hash === 'sha256' ? 32 : 64,
      hash,
    );
    const clientKey = createHmac(hash, salted).update('Client Key').digest();
    const storedKey = createHash(hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${nonce ?? fields.r}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const signature = createHmac(hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
    const serverKey = createHmac(hash, salted).update('Server Key').digest();
    this.serverSignature = createHmac(hash, serverKey).update(authMessage).digest();
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Whether the server's final message proves it knows the credential. */
  verify(serverFinal: Buffer): boolean {
    return serverFinal.toString() === `v=${this.serverSignature?.toString('base64')}`;
  }
}

/**
 * The SASL exchange of one connection on a SASL_PLAINTEXT or SASL_SSL listener, as Kafka's
 * SaslServerAuthenticator runs it:
 *
 * 1. Before authentication only ApiVersions and SaslHandshake are served; any other request closes the
 *    connection unanswered ("Unexpected Kafka request of type … during SASL handshake").
 * 2. SaslHandshake names a mechanism; one not enabled is answered UNSUPPORTED_SASL_MECHANISM with the
 *    enabled ones, and the connection closes.
 * 3. After SaslHandshake v1, the tokens come in SaslAuthenticate requests (any other request closes the
 *    connection). After SaslHandshake v0 (Kafka's legacy flow) they come raw: size-prefixed tokens without
 *    a request header, answered the same way.
 * 4. A failure is answered SASL_AUTHENTICATION_FAILED after `connection.failed.authentication.delay.ms`,
 *    and the connection closes.
 * 5. Re-authentication (KIP-368): with `connections.max.reauth.ms`, SaslAuthenticate v1+ tells the client
 *    its session lifetime; a client re-authenticates with SaslHandshake and SaslAuthenticate on the same
 *    connection, as the same principal. A request other than SaslHandshake after the session expired
 *    closes the connection.
 */
import type { SaslMechanism } from '../../broker/config.js';
import { ErrorCode } from '../../protocol/error-codes.js';
import { API_VERSION_TABLE } from '../../protocol/generated/version-table.js';
import { type KafkaPrincipal, userPrincipal } from '../principal.js';
import type { CredentialStore } from './credential-store.js';
import { type JwksValidator, OAuthBearerServer } from './oauthbearer.js';
import { PlainServer } from './plain.js';
import { SaslAuthenticationError, type SaslMechanismServer } from './sasl-server.js';
import { isScramMechanism, SCRAM_MECHANISMS, ScramServer, verifyPassword } from './scram.js';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

/** What every SASL connection of one listener shares. */
export interface SaslListenerConfig {
  mechanisms: readonly SaslMechanism[];
  /** The PLAIN users of the listener's JAAS configuration (`user_<name>="<password>"`). */
  plainUsers: ReadonlyMap<string, string>;
  credentials: CredentialStore;
  /** The JWKS keys OAUTHBEARER tokens are checked with; null when OAUTHBEARER is not enabled. */
  oauthBearer: JwksValidator | null;
  /** connections.max.reauth.ms; 0: sessions do not expire. */
  maxReauthMs: number;
  /** connection.failed.authentication.delay.ms */
  failedAuthenticationDelayMs: number;
  /**
   * Counts authentications (the failed-authentication-total and successful-authentication-total metrics);
   * `reauthentication` for a session renewed on an open connection (KIP-368).
   */
  onAuthentication?(succeeded: boolean, mechanism: string, detail: string, reauthentication: boolean): void;
  now?(): number;
}

export interface HandshakeOutcome {
  errorCode: ErrorCode;
  mechanisms: string[];
  /** Set when the connection closes once the answer is written. */
  closeReason?: string;
}

export interface AuthenticateOutcome {
  errorCode: ErrorCode;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: bigint;
  closeReason?: string;
}

type State = 'handshake' | 'authenticate' | 'complete' | 'failed';

function apiName(apiKey: number): string {
  return API_VERSION_TABLE[apiKey]?.name ?? `api key ${apiKey}`;
}

export class SaslServerAuthenticator {
  private state: State = 'handshake';
  /** After SaslHandshake v0 the tokens come without request headers. */
  private legacy = false;
  private server: SaslMechanismServer | null = null;
  private mechanism: string | null = null;
  /** When the session ends (connections.max.reauth.ms), or Infinity. */
  private sessionExpiresAt = Number.POSITIVE_INFINITY;
  private reauthenticating = false;
  /** A re-authentication asked for another mechanism than the session's: it fails at SaslAuthenticate. */
  private badReauthMechanism: string | null = null;
  principal: KafkaPrincipal | null = null;

  constructor(private readonly config: SaslListenerConfig) {}

  private now(): number {
    return this.config.now?.() ?? Date.now();
  }

  get authenticated(): boolean {
    return this.state === 'complete';
  }

  /** The next frame is a raw SASL token (after SaslHandshake v0), not a request. */
  get expectsRawToken(): boolean {
    return this.legacy && this.state === 'authenticate';
  }

  /** Null when a request of `apiKey` may be handled now; otherwise why the connection closes. */
  admit(apiKey: number): string | null {
    switch (this.state) {
      case 'handshake':
        if (apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE) return null;
        return `Unexpected Kafka request of type ${apiName(apiKey)} during SASL handshake.`;
      case 'authenticate':
        if (apiKey === SASL_AUTHENTICATE) return null;
        return `Unexpected Kafka request of type ${apiName(apiKey)} during SASL authentication.`;
      case 'complete':
        if (apiKey === SASL_HANDSHAKE) return null;
        if (this.sessionExpiresAt !== Number.POSITIVE_INFINITY && this.now() >= this.sessionExpiresAt)
          return `the SASL session of ${this.principal?.name} expired (connections.max.reauth.ms) and the client did not re-authenticate`;
        return null;
      default:
        return 'SASL authentication failed';
    }
  }

  handshake(mechanism: string, version: number): HandshakeOutcome {
    const mechanisms = [...this.config.mechanisms];
    if (this.state === 'complete') {
      // KIP-368: a SaslHandshake on an authenticated connection starts a re-authentication.
      this.reauthenticating = true;
      this.badReauthMechanism = mechanism === this.mechanism ? null : mechanism;
    } else if (this.state !== 'handshake') {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms, closeReason: 'SaslHandshake out of turn' };
    }
    if (!(mechanisms as string[]).includes(mechanism)) {
      this.state = 'failed';
      return {
        errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
        mechanisms,
        closeReason: `Unsupported SASL mechanism ${mechanism}`,
      };
    }
    this.mechanism = this.badReauthMechanism === null ? mechanism : this.mechanism;
    this.server = this.newServer(mechanism as SaslMechanism);
    this.legacy = version === 0;
    this.state = 'authenticate';
    return { errorCode: ErrorCode.NONE, mechanisms };
  }

  private newServer(mechanism: SaslMechanism): SaslMechanismServer {
    const { credentials, plainUsers, oauthBearer } = this.config;
    if (isScramMechanism(mechanism)) return new ScramServer(mechanism, (user, m) => credentials.get(user, m));
    if (mechanism === 'OAUTHBEARER') {
      if (oauthBearer === null) throw new Error('OAUTHBEARER is enabled without a JWKS validator');
      return new OAuthBearerServer(oauthBearer, () => this.now());
    }
    return new PlainServer(async (user, password) => {
      const expected = plainUsers.get(user);
      if (expected !== undefined) return expected === password;
      // A user the JAAS configuration does not name may still have a SCRAM credential.
      for (const m of SCRAM_MECHANISMS) {
        const credential = credentials.get(user, m);
        if (credential) return verifyPassword(m, credential, password);
      }
      return false;
    });
  }

  /** One SaslAuthenticate request. */
  async authenticate(token: Buffer): Promise<AuthenticateOutcome> {
    if (this.state !== 'authenticate' || this.server === null) {
      // Kafka answers this on a connection that needs no SASL, or already authenticated.
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate request received after successful authentication',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
      };
    }
    const what = this.reauthenticating ? 're-authentication' : 'authentication';
    try {
      if (this.badReauthMechanism !== null)
        throw new SaslAuthenticationError(
          `SASL mechanism '${this.badReauthMechanism}' requested by client is not supported for re-authentication of mechanism '${this.mechanism}'`,
          true,
        );
      const step = await this.server.evaluate(token);
      let sessionLifetimeMs = 0n;
      if (step.complete) sessionLifetimeMs = BigInt(this.complete());
      // Kafka leaves the message at its default, the empty string, on success.
      return { errorCode: ErrorCode.NONE, errorMessage: '', authBytes: step.challenge, sessionLifetimeMs };
    } catch (err) {
      if (!(err instanceof SaslAuthenticationError)) throw err;
      const message = err.isPublic
        ? err.message
        : `Authentication failed during ${what} due to invalid credentials with SASL mechanism ${this.mechanism}`;
      await this.fail(err.detail ?? err.message);
      return {
        errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED,
        errorMessage: message,
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0n,
        closeReason: `SASL ${what} failed with ${this.mechanism}: ${err.message}`,
      };
    }
  }

  /**
   * One raw token after SaslHandshake v0: the answer to write (a size-prefixed token), and whether the
   * connection then closes. A failure is not answered (there is no header to carry an error): the
   * connection closes after the delay.
   */
  async rawToken(token: Buffer): Promise<{ frame: Buffer | null; closeReason?: string }> {
    const outcome = await this.authenticate(token);
    if (outcome.errorCode !== ErrorCode.NONE)
      return { frame: null, closeReason: outcome.closeReason ?? 'SASL authentication failed' };
    const frame = Buffer.allocUnsafe(4 + outcome.authBytes.length);
    frame.writeInt32BE(outcome.authBytes.length, 0);
    outcome.authBytes.copy(frame, 4);
    return { frame };
  }

  /** Records a completed exchange; returns the session lifetime (0: none). */
  private complete(): number {
    const user = this.server!.authorizationId;
    if (this.reauthenticating && this.principal !== null && this.principal.name !== user) {
      throw new SaslAuthenticationError(
        `Cannot change principals during re-authentication from User:${this.principal.name}: User:${user}`,
        true,
      );
    }
    this.principal = userPrincipal(user);
    this.state = 'complete';
    this.legacy = false;
    const reauthentication = this.reauthenticating;
    this.reauthenticating = false;
    // The session ends with connections.max.reauth.ms or with the credential (an OAuth token), whichever
    // comes first, as Kafka computes it.
    const now = this.now();
    let expiresAt = this.config.maxReauthMs > 0 ? now + this.config.maxReauthMs : Number.POSITIVE_INFINITY;
    const credentialExpiresAt = this.server?.credentialExpiresAtMs;
    if (credentialExpiresAt !== undefined) expiresAt = Math.min(expiresAt, credentialExpiresAt);
    this.sessionExpiresAt = expiresAt;
    this.server = null;
    this.config.onAuthentication?.(true, this.mechanism ?? '?', user, reauthentication);
    return Number.isFinite(expiresAt) ? Math.max(0, expiresAt - now) : 0;
  }

  private async fail(detail: string): Promise<void> {
    this.state = 'failed';
    this.server = null;
    this.config.onAuthentication?.(false, this.mechanism ?? '?', detail, this.reauthenticating);
    const delay = this.config.failedAuthenticationDelayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** What every SASL mechanism's server side offers the authenticator. */

export interface SaslStep {
  /** The token for the client (may be empty). */
  challenge: Buffer;
  /** The exchange succeeded: the client is `authorizationId`. */
  complete: boolean;
}

export interface SaslMechanismServer {
  readonly mechanism: string;
  /** The authenticated user, once complete. */
  readonly authorizationId: string;
  /** Takes the client's next token; throws SaslAuthenticationError when authentication fails. */
  evaluate(token: Buffer): Promise<SaslStep>;
  /** When the credential used expires (an OAuth token): the session may not outlive it. */
  readonly credentialExpiresAtMs?: number;
}

/**
 * A failed authentication. Kafka tells the client the message of some failures (its
 * SaslAuthenticationException: `public`), and for the others only that the credentials were invalid, so as
 * not to reveal, say, whether a user exists; the message is then for the broker's log alone.
 */
export class SaslAuthenticationError extends Error {
  override name = 'SaslAuthenticationError';
  constructor(
    message: string,
    readonly isPublic: boolean,
    /** What the broker logs, when it says more than the message. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/**
 * SASL/PLAIN (RFC 4616): one token `authzid NUL user NUL password`, checked against the listener's JAAS
 * users (`user_<name>="<password>"`) or, for a user not named there, the SCRAM credentials. The messages
 * are Kafka's PlainSaslServer's, which the client hears.
 */
import { SaslAuthenticationError, type SaslMechanismServer, type SaslStep } from './sasl-server.js';

export type PlainPasswordCheck = (user: string, password: string) => Promise<boolean>;

export class PlainServer implements SaslMechanismServer {
  readonly mechanism = 'PLAIN';
  private user = '';

  constructor(private readonly check: PlainPasswordCheck) {}

  get authorizationId(): string {
    return this.user;
  }

  async evaluate(token: Buffer): Promise<SaslStep> {
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3)
      throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`, true);
    const [authzid, user, password] = parts;
    if (user === '') throw new SaslAuthenticationError('Authentication failed: username not specified', true);
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified', true);
    if (!(await this.check(user, password)))
      throw new SaslAuthenticationError('Authentication failed: Invalid username or password', true);
    if (authzid !== '' && authzid !== user)
      throw new SaslAuthenticationError(
        'Authentication failed: Client requested an authorization id that is different from username',
        true,
      );
    this.user = user;
    return { challenge: Buffer.alloc(0), complete: true };
  }
}

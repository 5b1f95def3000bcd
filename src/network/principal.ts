/**
 * Who a connection is, as Kafka's KafkaPrincipal says it: `User:alice` after SASL, `User:CN=alice,O=example`
 * (after the mapping rules) for a TLS client certificate, `User:ANONYMOUS` otherwise. An authorizer (ACLs)
 * reads it from the request's connection.
 */
import type { SecurityProtocol } from '../broker/config.js';
import type { SaslServerAuthenticator } from './sasl/authenticator.js';

export interface KafkaPrincipal {
  readonly principalType: 'User';
  readonly name: string;
}

export const ANONYMOUS: KafkaPrincipal = Object.freeze({ principalType: 'User', name: 'ANONYMOUS' });

export function userPrincipal(name: string): KafkaPrincipal {
  return { principalType: 'User', name };
}

/** `User:alice`, Kafka's string form. */
export function formatPrincipal(principal: KafkaPrincipal): string {
  return `${principal.principalType}:${principal.name}`;
}

/** The security of one connection: its listener's protocol, and who it is once known. */
export interface ConnectionSecurity {
  readonly securityProtocol: SecurityProtocol;
  /** ANONYMOUS until a SASL exchange completes (or from the client certificate on an SSL listener). */
  readonly principal: KafkaPrincipal;
  /** The SASL exchange of a SASL_PLAINTEXT or SASL_SSL connection; null on other listeners. */
  readonly sasl: SaslServerAuthenticator | null;
}

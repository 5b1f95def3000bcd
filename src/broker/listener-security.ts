/**
 * Turns the listener settings (listeners, listener.security.protocol.map, ssl.*, sasl.*, and their
 * `listener.name.<listener>.` forms) into what the network layer serves: per listener its protocol, its
 * TLS, and its SASL mechanisms and users.
 */

import type { CredentialStore } from '../network/sasl/credential-store.js';
import { parseJaasConfig, plainUsers } from '../network/sasl/jaas.js';
import { JwksValidator, type OAuthLogger } from '../network/sasl/oauthbearer.js';
import type { ListenerOptions } from '../network/server.js';
import { ListenerTls, type TlsLogger, type TlsSettings } from '../network/tls.js';
import {
  type BrokerConfig,
  listenerJaasConfig,
  listenerSetting,
  type SaslMechanism,
  securityProtocols,
  servedListeners,
} from './config.js';

export interface ListenerSecurityDeps {
  credentials: CredentialStore;
  /** The JWKS keys of OAUTHBEARER, when a listener offers it (see oauthBearerValidator). */
  oauthBearer: JwksValidator | null;
  logger: TlsLogger;
  onAuthentication(succeeded: boolean, mechanism: string, detail: string, reauthentication: boolean): void;
}

export function listenerOptions(config: BrokerConfig, deps: ListenerSecurityDeps): ListenerOptions[] {
  const protocols = securityProtocols(config);
  return servedListeners(config).map((listener) => {
    // Config validation guarantees every served listener has a protocol.
    const securityProtocol = protocols.get(listener.name) ?? 'PLAINTEXT';
    const options: ListenerOptions = { ...listener, securityProtocol };
    if (securityProtocol === 'SSL' || securityProtocol === 'SASL_SSL')
      options.tls = new ListenerTls(listener.name, tlsSettings(config, listener.name), deps.logger);
    if (securityProtocol === 'SASL_PLAINTEXT' || securityProtocol === 'SASL_SSL') {
      const mechanisms = listenerSetting(config, listener.name, 'sasl.enabled.mechanisms') as SaslMechanism[];
      const jaas = listenerJaasConfig(config, listener.name, 'PLAIN');
      options.sasl = {
        mechanisms,
        plainUsers: jaas === null ? new Map() : plainUsers(parseJaasConfig(jaas)),
        credentials: deps.credentials,
        oauthBearer: mechanisms.includes('OAUTHBEARER') ? deps.oauthBearer : null,
        maxReauthMs: listenerSetting(config, listener.name, 'connections.max.reauth.ms') as number,
        failedAuthenticationDelayMs: config['connection.failed.authentication.delay.ms'] as number,
        onAuthentication: deps.onAuthentication,
      };
    }
    return options;
  });
}

/** The OAUTHBEARER validator of the broker's JWKS settings, or null when no listener offers OAUTHBEARER. */
export function oauthBearerValidator(config: BrokerConfig, logger: OAuthLogger): JwksValidator | null {
  const jwks = config['sasl.oauthbearer.jwks.endpoint.url'] as string | null;
  if (jwks === null) return null;
  return new JwksValidator(
    {
      jwksLocation: jwks,
      expectedAudience: config['sasl.oauthbearer.expected.audience'] as string[] | null,
      expectedIssuer: config['sasl.oauthbearer.expected.issuer'] as string | null,
      subClaimName: config['sasl.oauthbearer.sub.claim.name'] as string,
      clockSkewSeconds: config['sasl.oauthbearer.clock.skew.seconds'] as number,
    },
    logger,
  );
}

function tlsSettings(config: BrokerConfig, listenerName: string): TlsSettings {
  const get = (key: string) => listenerSetting(config, listenerName, key);
  const text = (key: string) => get(key) as string | null;
  return {
    keystoreType: get('ssl.keystore.type') as TlsSettings['keystoreType'],
    keystoreLocation: text('ssl.keystore.location'),
    keystorePassword: text('ssl.keystore.password'),
    keystoreKey: text('ssl.keystore.key'),
    keystoreCertificateChain: text('ssl.keystore.certificate.chain'),
    keyPassword: text('ssl.key.password'),
    truststoreLocation: text('ssl.truststore.location'),
    truststoreCertificates: text('ssl.truststore.certificates'),
    clientAuth: get('ssl.client.auth') as TlsSettings['clientAuth'],
    enabledProtocols: get('ssl.enabled.protocols') as string[],
    principalMappingRules: text('ssl.principal.mapping.rules') ?? 'DEFAULT',
  };
}

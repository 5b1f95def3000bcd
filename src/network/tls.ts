/**
 * TLS of SSL and SASL_SSL listeners, from Kafka's settings with `ssl.keystore.type=PEM` (or PKCS12): the
 * key and certificate chain from `ssl.keystore.location` or inline `ssl.keystore.key` and
 * `ssl.keystore.certificate.chain`, the CAs client certificates must chain to from `ssl.truststore.*`.
 *
 * The files are watched: when one changes, a new secure context is built and given to the listener
 * (tls.Server.setSecureContext), so new connections get the new certificate while open ones keep theirs.
 * A file that no longer parses is reported and the previous context kept.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import { type PrincipalMappingRule, parsePrincipalMappingRules } from './ssl-principal.js';

export interface TlsSettings {
  keystoreType: 'PEM' | 'PKCS12';
  keystoreLocation: string | null;
  keystorePassword: string | null;
  keystoreKey: string | null;
  keystoreCertificateChain: string | null;
  keyPassword: string | null;
  truststoreLocation: string | null;
  truststoreCertificates: string | null;
  clientAuth: 'required' | 'requested' | 'none';
  enabledProtocols: readonly string[];
  principalMappingRules: string;
}

export interface TlsLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The TLS of one listener: its current secure context, rebuilt when its files change. */
export class ListenerTls {
  readonly principalRules: PrincipalMappingRule[];
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly listenerName: string,
    readonly settings: TlsSettings,
    private readonly logger: TlsLogger,
  ) {
    this.principalRules = parsePrincipalMappingRules(settings.principalMappingRules);
  }

  /** Options for tls.createServer: the secure context, client authentication and TLS versions. */
  async serverOptions(): Promise<SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }> {
    const { clientAuth } = this.settings;
    return {
      ...(await this.contextOptions()),
      requestCert: clientAuth !== 'none',
      rejectUnauthorized: clientAuth === 'required',
    };
  }

  /** Reads the key store and trust store; throws an Error naming the file or setting at fault. */
  async contextOptions(): Promise<SecureContextOptions> {
    const s = this.settings;
    const options: SecureContextOptions = { ...tlsVersions(s.enabledProtocols) };
    if (s.keystoreLocation !== null) {
      const bytes = await readSetting(s.keystoreLocation, 'ssl.keystore.location');
      if (s.keystoreType === 'PKCS12') {
        options.pfx = bytes;
        options.passphrase = s.keystorePassword ?? undefined;
      } else {
        // One PEM file holds the key and the chain: OpenSSL picks the blocks of each kind out of it.
        options.key = bytes;
        options.cert = bytes;
        options.passphrase = s.keyPassword ?? undefined;
      }
    } else {
      options.key = s.keystoreKey ?? undefined;
      options.cert = s.keystoreCertificateChain ?? undefined;
      options.passphrase = s.keyPassword ?? undefined;
    }
    if (s.truststoreLocation !== null) options.ca = await readSetting(s.truststoreLocation, 'ssl.truststore.location');
    else if (s.truststoreCertificates !== null) options.ca = s.truststoreCertificates;
    try {
      // Fails here, with OpenSSL's reason, rather than at the first client.
      createSecureContext(options);
    } catch (err) {
      throw new Error(
        `listener ${this.listenerName}: cannot use its TLS key and certificates (${(err as Error).message}); check ssl.keystore.* and ssl.key.password`,
      );
    }
    return options;
  }

  /** Calls `apply` with new context options whenever the key store or trust store file changes. */
  watch(apply: (options: SecureContextOptions) => void): void {
    const files = [this.settings.keystoreLocation, this.settings.truststoreLocation].filter(
      (f): f is string => f !== null,
    );
    for (const file of files) {
      const name = basename(file);
      try {
        // The directory is watched: tools replace a certificate by renaming a new file over the old one.
        const watcher = watch(dirname(file), (_event, changed) => {
          if (changed !== null && changed !== name) return;
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => this.reload(apply), 100);
          this.reloadTimer.unref();
        });
        watcher.unref();
        this.watchers.push(watcher);
      } catch (err) {
        this.logger.warn(
          { listener: this.listenerName, file, err: (err as Error).message },
          'cannot watch a TLS file for changes; restart the broker to load a new certificate',
        );
      }
    }
  }

  private reload(apply: (options: SecureContextOptions) => void): void {
    this.contextOptions().then(
      (options) => {
        apply(options);
        this.logger.info({ listener: this.listenerName }, 'loaded the changed TLS key store or trust store');
      },
      (err: Error) =>
        this.logger.warn(
          { listener: this.listenerName, err: err.message },
          'a TLS file changed but cannot be used; new connections keep the previous certificate until it is fixed',
        ),
    );
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearTimeout(this.reloadTimer);
  }
}

async function readSetting(file: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`cannot read ${setting} ${file}: ${(err as Error).message}`);
  }
}

function tlsVersions(enabled: readonly string[]): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  const versions = (['TLSv1.2', 'TLSv1.3'] as const).filter((v) => enabled.includes(v));
  return { minVersion: versions[0] ?? 'TLSv1.2', maxVersion: versions[versions.length - 1] ?? 'TLSv1.3' };
}

/**
 * The bootstrap option of the client subcommands and the client it makes. Apart from args.ts so that
 * `sluice start` does not load the client and its codecs.
 */
import { KafkaClient } from '../client/client.js';
import { type Acks, compressionFromName } from '../client/producer.js';
import type { CompressionType } from '../records/index.js';
import { int, UsageError } from './args.js';

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

export const BOOTSTRAP_HELP = `  -b, --bootstrap-server HOST:PORT[,…]   broker(s) to start from (default ${DEFAULT_BOOTSTRAP};
                                          env SLUICE_BOOTSTRAP_SERVER)
  --timeout MS                            request timeout (default 30000)`;

export const BOOTSTRAP_OPTIONS = {
  'bootstrap-server': { type: 'string', short: 'b' },
  timeout: { type: 'string' },
} as const;

/** A client for the bootstrap servers named by -b (or SLUICE_BOOTSTRAP_SERVER, or the default). */
export function clientFrom(values: { 'bootstrap-server'?: string; timeout?: string }): KafkaClient {
  const bootstrap = values['bootstrap-server'] ?? process.env.SLUICE_BOOTSTRAP_SERVER ?? DEFAULT_BOOTSTRAP;
  const timeout = int(values.timeout, '--timeout', { min: 1 });
  try {
    return new KafkaClient({
      bootstrap,
      clientId: 'sluice-cli',
      requestTimeoutMs: timeout,
      connectTimeoutMs: timeout === undefined ? undefined : Math.min(timeout, 10_000),
    });
  } catch (err) {
    throw new UsageError(`--bootstrap-server: ${(err as Error).message}`);
  }
}

/** Runs `body` with a client, closing it afterwards. */
export async function withClient<T>(
  values: { 'bootstrap-server'?: string; timeout?: string },
  body: (client: KafkaClient) => Promise<T>,
): Promise<T> {
  const client = clientFrom(values);
  try {
    return await body(client);
  } finally {
    await client.close();
  }
}

/** --acks as Kafka's producers take it: 0, 1, all or -1 (the same as all, and the default). */
export function parseAcks(value: string | undefined): Acks {
  switch (value) {
    case undefined:
    case 'all':
    case '-1':
      return -1;
    case '1':
      return 1;
    case '0':
      return 0;
    default:
      throw new UsageError(`--acks must be 0, 1, all or -1, got "${value}"`);
  }
}

/** --compression: none (the default), gzip, snappy, lz4 or zstd. */
export function parseCompression(value: string | undefined): CompressionType {
  try {
    return compressionFromName(value ?? 'none');
  } catch (err) {
    throw new UsageError(`--compression: ${(err as Error).message}`);
  }
}

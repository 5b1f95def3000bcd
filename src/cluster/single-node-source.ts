/**
 * The metadata of a broker that runs alone: it is the only broker and its own controller, and its cluster
 * id lives in meta.properties (or in memory). This is Sluice's behaviour without etcd, unchanged.
 */
import { randomBytes } from 'node:crypto';
import type { LocalBroker, MetadataImage, MetadataSource } from './metadata-source.js';

export class SingleNodeMetadataSource implements MetadataSource {
  readonly kind = 'single-node';
  private current: MetadataImage;

  constructor(nodeId: number) {
    this.current = { clusterId: '', controllerId: nodeId, brokers: [] };
  }

  /** The id already in the data dir wins; then the configured one; a new cluster gets a random one. */
  async agreeClusterId(local: string | null, configured: string | null): Promise<string> {
    const clusterId = local ?? configured ?? newClusterId();
    this.current = { ...this.current, clusterId };
    return clusterId;
  }

  async register(self: LocalBroker): Promise<void> {
    this.current = {
      ...this.current,
      controllerId: self.nodeId,
      brokers: [{ ...self, brokerEpoch: -1n }],
    };
  }

  image(): MetadataImage {
    return this.current;
  }

  async stop(): Promise<void> {}
}

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

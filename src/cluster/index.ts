/**
 * The cluster layer's entry: which metadata source a broker uses. Without metadata.etcd.endpoints a broker
 * runs alone (the single-node source); with them it joins the cluster kept in etcd. The etcd source and
 * its client (etcd3, gRPC) are imported only then, so a single broker starts as fast as before.
 */
import type { BrokerConfig } from '../broker/config.js';
import type { Logger } from '../broker/logger.js';
import type { MetadataSource } from './metadata-source.js';
import { SingleNodeMetadataSource } from './single-node-source.js';

export type {
  BrokerEndpoint,
  BrokerRegistration,
  LocalBroker,
  MetadataImage,
  MetadataSource,
} from './metadata-source.js';
export { SingleNodeMetadataSource } from './single-node-source.js';

export async function createMetadataSource(config: BrokerConfig, logger: Logger): Promise<MetadataSource> {
  const endpoints = config['metadata.etcd.endpoints'] as string[] | null;
  if (endpoints === null) return new SingleNodeMetadataSource(config['node.id'] as number);
  const { EtcdMetadataSource } = await import('./etcd-metadata-source.js');
  return EtcdMetadataSource.connect({
    endpoints,
    sessionTimeoutMs: config['broker.session.timeout.ms'] as number,
    logger,
  });
}

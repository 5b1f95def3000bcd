/**
 * Where a broker learns what the cluster is made of: Kafka's MetadataImage idea, one immutable picture of
 * the live brokers, the controller and the cluster id, replaced whole when anything changes. Handlers read
 * the current image; they never ask etcd themselves, so a request never waits on the metadata store.
 *
 * Two sources implement it: the single-node source (this broker alone, today's behaviour) and the etcd
 * source (src/cluster/etcd-metadata-source.ts). Topics, partitions and ISR join the image with replication.
 */

/** One listener a broker advertises, as in advertised.listeners. */
export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
}

/** A live broker as the cluster sees it. */
export interface BrokerRegistration {
  nodeId: number;
  /** broker.rack, or null. */
  rack: string | null;
  /** Advertised listeners; the first is the one Metadata and DescribeCluster give clients. */
  listeners: BrokerEndpoint[];
  /**
   * KIP-903's broker epoch: it grows with every registration, so a broker that comes back (after a crash
   * or a network cut) is told apart from its former self. The etcd revision of the registration; -1 for a
   * broker that is not registered (a single node, or this broker while cut off from etcd).
   */
  brokerEpoch: bigint;
}

export interface MetadataImage {
  clusterId: string;
  /** The elected controller, or -1 while there is none (Kafka's value for "no controller"). */
  controllerId: number;
  /** Live brokers, by node id. This broker is always among them: it serves its own partitions. */
  brokers: readonly BrokerRegistration[];
}

/** What a broker says about itself when it joins. */
export interface LocalBroker {
  nodeId: number;
  rack: string | null;
  listeners: BrokerEndpoint[];
}

export interface MetadataSource {
  /** 'single-node' or 'etcd': for logs and `sluice cluster status`. */
  readonly kind: 'single-node' | 'etcd';
  /**
   * Settles the cluster id. `local` is the id in the data dir's meta.properties (null when there is none),
   * `configured` the cluster.id setting. Rejects when they contradict the cluster's own id.
   */
  agreeClusterId(local: string | null, configured: string | null): Promise<string>;
  /** Announces this broker as live; resolves once it is registered and the image includes the cluster. */
  register(self: LocalBroker): Promise<void>;
  /** The current picture; cheap, called on every Metadata request. */
  image(): MetadataImage;
  /** Leaves the cluster (its registration and any controllership end at once) and closes connections. */
  stop(): Promise<void>;
}

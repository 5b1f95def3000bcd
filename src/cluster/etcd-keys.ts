/**
 * The layout of Sluice's keys in etcd and how their values read, shared by the brokers' metadata source
 * and `sluice cluster status`.
 */
import type { IKeyValue } from 'etcd3';
import type { BrokerEndpoint, BrokerRegistration, LocalBroker } from './metadata-source.js';

/** The cluster id, written once by the first broker (compare-and-swap). */
export const CLUSTER_ID_KEY = '/sluice/cluster-id';

/** Everything else of a cluster lives under its id, so a second cluster on one etcd keeps apart. */
export function clusterPrefix(clusterId: string): string {
  return `/sluice/${clusterId}/`;
}

export function brokerKey(clusterId: string, nodeId: number): string {
  return `${clusterPrefix(clusterId)}brokers/${nodeId}`;
}

/**
 * Controller candidates, below the cluster prefix: one key per broker session, named by its lease (the
 * layout of etcd's election recipe, which etcd3's Election also uses).
 */
export const CONTROLLER_ELECTION = 'election/controller/';

/** The value of a broker's registration key: what other brokers tell clients about it. */
export function registrationValue(self: LocalBroker): string {
  return JSON.stringify({ nodeId: self.nodeId, rack: self.rack, listeners: self.listeners });
}

/** A registration key read back, with its epoch; null when the value is not one Sluice wrote. */
export function parseRegistration(kv: IKeyValue): BrokerRegistration | null {
  try {
    const value = JSON.parse(kv.value.toString()) as { nodeId: unknown; rack: unknown; listeners: unknown };
    if (typeof value.nodeId !== 'number' || !Array.isArray(value.listeners) || value.listeners.length === 0)
      return null;
    const listeners = (value.listeners as BrokerEndpoint[]).map((l) => ({
      name: String(l.name),
      host: String(l.host),
      port: Number(l.port),
    }));
    const rack = typeof value.rack === 'string' ? value.rack : null;
    return { nodeId: value.nodeId, rack, listeners, brokerEpoch: BigInt(kv.mod_revision) };
  } catch {
    return null;
  }
}

/**
 * The controller: etcd's election recipe makes the candidate with the oldest key (lowest create revision)
 * the leader, and its value is its node id. -1 when there is no candidate.
 */
export function controllerFrom(candidates: Iterable<IKeyValue>): number {
  let leader: IKeyValue | null = null;
  for (const kv of candidates)
    if (leader === null || BigInt(kv.create_revision) < BigInt(leader.create_revision)) leader = kv;
  if (leader === null) return -1;
  const nodeId = Number(leader.value.toString());
  return Number.isInteger(nodeId) ? nodeId : -1;
}

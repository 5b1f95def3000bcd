/**
 * `sluice cluster status`: the cluster as etcd holds it (brokers with their epochs, the controller, the
 * health of each endpoint), or as DescribeCluster reports it when no etcd is named. Apart from cluster.ts
 * so that `sluice cluster info` does not load the etcd client.
 */
import { Admin } from '../client/admin.js';
import {
  CLUSTER_ID_KEY,
  CONTROLLER_ELECTION,
  clusterPrefix,
  controllerFrom,
  parseRegistration,
} from '../cluster/etcd-keys.js';
import { connectEtcd } from '../cluster/etcd-metadata-source.js';
import { FORMAT_OPTION, int, outputFormat, parse, table, UsageError } from './args.js';
import { BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

interface StatusBroker {
  nodeId: number;
  /** KIP-903 broker epoch, as a decimal string (int64); null when the source has none (DescribeCluster). */
  brokerEpoch: string | null;
  host: string;
  port: number;
  rack: string | null;
}

interface EndpointHealth {
  endpoint: string;
  healthy: boolean;
  version: string | null;
  isLeader: boolean;
  dbSizeBytes: number | null;
  error: string | null;
}

interface Status {
  source: 'etcd' | 'DescribeCluster';
  clusterId: string | null;
  controllerId: number;
  brokers: StatusBroker[];
  etcd: EndpointHealth[];
}

export async function status(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION, etcd: { type: 'string' } });
  const format = outputFormat(values.format);
  const timeoutMs = int(values.timeout, '--timeout', { min: 1 }) ?? 5000;
  let result: Status;
  if (values.etcd !== undefined) {
    const endpoints = values.etcd
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e.length > 0);
    if (endpoints.length === 0) throw new UsageError('--etcd needs at least one HOST:PORT');
    result = await readEtcdStatus(endpoints, timeoutMs);
  } else {
    result = await withClient(values, async (client) => {
      const cluster = await new Admin(client).describeCluster();
      return {
        source: 'DescribeCluster' as const,
        clusterId: cluster.clusterId,
        controllerId: cluster.controllerId,
        brokers: cluster.brokers.map((b) => ({ ...b, brokerEpoch: null })),
        etcd: [],
      };
    });
  }
  const healthy = result.etcd.every((e) => e.healthy);
  if (format === 'json') {
    console.log(JSON.stringify(result));
    return healthy ? 0 : 1;
  }
  const lines = [
    `Cluster: ${result.clusterId ?? '-'}  Controller: ${result.controllerId}  Brokers: ${result.brokers.length}  (from ${result.source})`,
    '',
    table(
      ['BROKER', 'EPOCH', 'ADDRESS', 'RACK'],
      result.brokers.map((b) => [
        b.nodeId === result.controllerId ? `${b.nodeId} (controller)` : b.nodeId,
        b.brokerEpoch ?? '-',
        `${b.host}:${b.port}`,
        b.rack ?? '-',
      ]),
    ),
  ];
  if (result.etcd.length > 0)
    lines.push(
      '',
      table(
        ['ETCD ENDPOINT', 'HEALTH', 'VERSION', 'LEADER', 'DB SIZE'],
        result.etcd.map((e) => [
          e.endpoint,
          e.healthy ? 'healthy' : `unhealthy: ${e.error}`,
          e.version ?? '-',
          e.isLeader ? 'yes' : 'no',
          e.dbSizeBytes ?? '-',
        ]),
      ),
    );
  console.log(lines.join('\n'));
  return healthy ? 0 : 1;
}

/** The cluster as etcd holds it, and the health of each endpoint. */
export async function readEtcdStatus(endpoints: string[], timeoutMs: number): Promise<Status> {
  const etcd = await Promise.all(endpoints.map((e) => endpointHealth(e, timeoutMs)));
  if (!etcd.some((e) => e.healthy)) return { source: 'etcd', clusterId: null, controllerId: -1, brokers: [], etcd };
  const client = await connectEtcd(endpoints, timeoutMs);
  try {
    const clusterId = await client.get(CLUSTER_ID_KEY).string();
    if (clusterId === null) return { source: 'etcd', clusterId: null, controllerId: -1, brokers: [], etcd };
    const prefix = clusterPrefix(clusterId);
    const [registrations, candidates] = await Promise.all([
      client.getAll().prefix(`${prefix}brokers/`).exec(),
      client.getAll().prefix(`${prefix}${CONTROLLER_ELECTION}`).exec(),
    ]);
    const brokers: StatusBroker[] = [];
    for (const kv of registrations.kvs) {
      const r = parseRegistration(kv);
      if (!r) continue;
      const [first] = r.listeners;
      brokers.push({
        nodeId: r.nodeId,
        brokerEpoch: String(r.brokerEpoch),
        host: first.host,
        port: first.port,
        rack: r.rack,
      });
    }
    brokers.sort((a, b) => a.nodeId - b.nodeId);
    return { source: 'etcd', clusterId, controllerId: controllerFrom(candidates.kvs), brokers, etcd };
  } finally {
    client.close();
  }
}

/** One endpoint's own status, asked of it alone: a client of several endpoints would answer for any. */
async function endpointHealth(endpoint: string, timeoutMs: number): Promise<EndpointHealth> {
  const client = await connectEtcd([endpoint], timeoutMs);
  try {
    const s = await client.maintenance.status();
    return {
      endpoint,
      healthy: s.errors.length === 0,
      version: s.version,
      isLeader: s.leader === s.header.member_id,
      dbSizeBytes: Number(s.dbSize),
      error: s.errors.length > 0 ? s.errors.join('; ') : null,
    };
  } catch (err) {
    return {
      endpoint,
      healthy: false,
      version: null,
      isLeader: false,
      dbSizeBytes: null,
      error: (err as Error).message,
    };
  } finally {
    client.close();
  }
}

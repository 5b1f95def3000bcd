/**
 * `sluice cluster status`: the live brokers with their epochs, the controller, and the health of each
 * etcd endpoint, read from etcd (`--etcd`) or, without it, from DescribeCluster (src/cli/cluster-status.ts).
 *
 * `sluice cluster info`: what a cluster is made of, from Metadata, DescribeCluster, DescribeConfigs and
 * ApiVersions: its id, its controller, each broker's address, rack and listeners, the Sluice version of a
 * Sluice broker, and the API versions each broker serves. Works against any Kafka-compatible broker.
 */
import { Admin, ResourceType } from '../client/admin.js';
import { CLIENT_VERSIONS } from '../client/versions.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { API_BY_KEY } from '../protocol/generated/index.js';
import { SLUICE_VERSION_CONFIG } from '../version.js';
import { FORMAT_OPTION, helpFor, outputFormat, parse, table, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

const INFO_HELP = `usage: sluice cluster info [options]

Shows the cluster id, the controller, and per broker its address, rack, listeners, the Sluice version
when the broker is Sluice, and the versions of each API it serves (USABLE: the version this client
would use, '-' where it speaks none of them).

options:
  --format text|json            output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice cluster info
  sluice cluster info -b kafka1:9092 --format json`;

const STATUS_HELP = `usage: sluice cluster status [options]

Shows the cluster id, the controller and the live brokers with their broker epochs (each registration
gets a larger one) and racks. With --etcd they are read from etcd, with the health of each endpoint (the
exit status is 1 when an endpoint does not answer); without it from DescribeCluster, which has no epochs.

options:
  --etcd HOST:PORT[,…]          read the cluster from these etcd endpoints (metadata.etcd.endpoints)
  --format text|json            output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice cluster status --etcd 10.0.0.1:2379
  sluice cluster status -b broker1:9092 --format json`;

export const CLUSTER_HELP = `usage: sluice cluster <action> [options]

Inspects a Kafka-compatible cluster.

actions:
  info     cluster id, controller, brokers, listeners, versions and the APIs each broker serves
  status   live brokers with their epochs, the controller, and the health of each etcd endpoint

examples:
  sluice cluster info
  sluice cluster status --etcd 10.0.0.1:2379`;

export const clusterHelp = (args: string[]) => helpFor({ info: INFO_HELP, status: STATUS_HELP }, CLUSTER_HELP, args);

export async function runCluster(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'info') return info(rest);
  if (action === 'status') {
    // The etcd client (gRPC) loads only for this action.
    const { status } = await import('./cluster-status.js');
    return status(rest);
  }
  if (action === undefined) throw new UsageError('missing action: info or status');
  throw new UsageError(`unknown action "${action}": use info or status`);
}

interface BrokerDescription {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  listeners: string[] | null;
  advertisedListeners: string[] | null;
  /** Set when the broker is Sluice (it describes the read-only sluice.version config); null for others. */
  sluiceVersion: string | null;
  apiVersions: Array<{ api: string; apiKey: number; minVersion: number; maxVersion: number; usable: number | null }>;
}

async function info(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION });
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const cluster = await admin.describeCluster();
    const brokers: BrokerDescription[] = [];
    for (const b of cluster.brokers) {
      const configs = await brokerConfigs(admin, b.nodeId);
      const ranges = await admin.apiVersions(b.nodeId);
      brokers.push({
        ...b,
        listeners: list(configs.get('listeners')),
        advertisedListeners: list(configs.get('advertised.listeners')),
        sluiceVersion: configs.get(SLUICE_VERSION_CONFIG) ?? null,
        apiVersions: ranges.map((r) => ({
          api: API_BY_KEY.get(r.apiKey)?.name ?? `Unknown(${r.apiKey})`,
          ...r,
          usable: usableVersion(r),
        })),
      });
    }
    if (format === 'json') {
      console.log(
        JSON.stringify({
          clusterId: cluster.clusterId,
          controllerId: cluster.controllerId,
          source: cluster.source,
          brokers,
        }),
      );
      return 0;
    }
    const lines = [
      `Cluster: ${cluster.clusterId ?? '-'}  Controller: ${cluster.controllerId}  Brokers: ${brokers.length}`,
      '',
      table(
        ['BROKER', 'ADDRESS', 'RACK', 'SOFTWARE', 'LISTENERS'],
        brokers.map((b) => [
          b.nodeId === cluster.controllerId ? `${b.nodeId} (controller)` : b.nodeId,
          `${b.host}:${b.port}`,
          b.rack ?? '-',
          b.sluiceVersion ? `Sluice ${b.sluiceVersion}` : 'not Sluice (Kafka or other)',
          b.listeners?.join(',') ?? '-',
        ]),
      ),
    ];
    for (const b of brokers) {
      lines.push(
        '',
        `Broker ${b.nodeId} serves ${b.apiVersions.length} APIs:`,
        table(
          ['API', 'KEY', 'MIN', 'MAX', 'USABLE'],
          b.apiVersions.map((a) => [a.api, a.apiKey, a.minVersion, a.maxVersion, a.usable ?? '-']),
        ),
      );
    }
    console.log(lines.join('\n'));
    return 0;
  });
}

/**
 * The broker's listeners and Sluice version, asked by key. A broker that refuses DescribeConfigs (no
 * permission, a very old Kafka) still gets described, without them.
 */
async function brokerConfigs(admin: Admin, nodeId: number): Promise<Map<string, string | null>> {
  try {
    const [resource] = await admin.describeConfigs([
      {
        type: ResourceType.BROKER,
        name: String(nodeId),
        keys: ['listeners', 'advertised.listeners', SLUICE_VERSION_CONFIG],
      },
    ]);
    if (resource?.errorCode !== ErrorCode.NONE) return new Map();
    return new Map(resource.configs.map((c) => [c.name, c.value]));
  } catch {
    return new Map();
  }
}

function list(value: string | null | undefined): string[] | null {
  if (value === undefined || value === null) return null;
  return value === '' ? [] : value.split(',').map((v) => v.trim());
}

/** The version this client would use of an API the broker serves, or null when it speaks none of them. */
function usableVersion(r: { apiKey: number; minVersion: number; maxVersion: number }): number | null {
  const ours = CLIENT_VERSIONS.get(r.apiKey);
  if (!ours) return null;
  const v = Math.min(ours.maxVersion, r.maxVersion);
  return v >= Math.max(ours.minVersion, r.minVersion) ? v : null;
}

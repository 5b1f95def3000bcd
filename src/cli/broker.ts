/**
 * `sluice broker config`: a broker's settings as DescribeConfigs reports them for the BROKER resource, with
 * where each value comes from (Kafka's ConfigSource). Works against any Kafka-compatible broker.
 */
import { Admin, CONFIG_SOURCE_NAMES, ResourceType } from '../client/admin.js';
import { KafkaError } from '../client/errors.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { FORMAT_OPTION, helpFor, int, outputFormat, parse, table, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

const CONFIG_HELP = `usage: sluice broker config [BROKER-ID…] [options]

Shows a broker's settings with the source of each value: by default those not at their default, with
--all every one. Without ids, every broker of the cluster.

options:
  --all                         every setting, defaults included
  --format text|json            output format (default text; json: one object per line per broker)
${BOOTSTRAP_HELP}

examples:
  sluice broker config
  sluice broker config 1 --all --format json`;

export const BROKER_HELP = `usage: sluice broker <action> [options]

Inspects the brokers of a Kafka-compatible cluster.

actions:
  config   a broker's settings and where their values come from

examples:
  sluice broker config --all`;

export const brokerHelp = (args: string[]) => helpFor({ config: CONFIG_HELP }, BROKER_HELP, args);

export async function runBroker(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'config') return config(rest);
  if (action === undefined) throw new UsageError('missing action: config');
  throw new UsageError(`unknown action "${action}": use config`);
}

async function config(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...BOOTSTRAP_OPTIONS, all: { type: 'boolean' }, ...FORMAT_OPTION },
    true,
  );
  const format = outputFormat(values.format);
  const ids = positionals.map((p) => int(p, 'BROKER-ID', { min: 0 }) as number);
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const nodeIds = ids.length > 0 ? ids : (await admin.describeCluster()).brokers.map((b) => b.nodeId);
    const texts: string[] = [];
    for (const nodeId of nodeIds) {
      const [resource] = await admin.describeConfigs([{ type: ResourceType.BROKER, name: String(nodeId) }]);
      if (resource.errorCode !== ErrorCode.NONE)
        throw new KafkaError(resource.errorCode, resource.errorMessage ?? `broker ${nodeId}`);
      const configs = resource.configs
        .filter((c) => values.all || !c.isDefault)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((c) => ({
          name: c.name,
          value: c.value,
          source: CONFIG_SOURCE_NAMES[c.source] ?? String(c.source),
          readOnly: c.readOnly,
          sensitive: c.sensitive,
        }));
      if (format === 'json') {
        console.log(JSON.stringify({ broker: nodeId, configs }));
        continue;
      }
      texts.push(
        [
          `Broker: ${nodeId}  Configs: ${configs.length}${values.all ? '' : ' (not at their defaults; --all for every one)'}`,
          table(
            ['CONFIG', 'VALUE', 'SOURCE'],
            configs.map((c) => [c.name, c.sensitive ? '(sensitive)' : (c.value ?? '(null)'), c.source]),
          ),
        ].join('\n'),
      );
    }
    if (texts.length > 0) console.log(texts.join('\n\n'));
    return 0;
  });
}

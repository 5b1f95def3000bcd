/** `sluice topic create|list|describe|alter|delete`: topic administration against any Kafka-compatible broker. */
import { Admin, CONFIG_SOURCE_NAMES, ResourceType } from '../client/admin.js';
import { listOffsets } from '../client/consumer.js';
import { KafkaError } from '../client/errors.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { FORMAT_OPTION, helpFor, int, keyValues, outputFormat, parse, table, toJson, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';

const CREATE_HELP = `usage: sluice topic create NAME [NAME…] [options]

Creates topics.

options:
  -p, --partitions N            partitions (default: the broker's num.partitions)
  -r, --replication-factor N    replicas per partition (default: the broker's default.replication.factor)
  -c, --config KEY=VALUE        topic config, e.g. retention.ms=86400000; may be repeated
  --if-not-exists               succeed when the topic exists already (printed as "exists: NAME")
  --validate-only               check the request without creating anything
  -f, --format text|json        text: "created: NAME" per topic (default); json: one object per topic
                                with name and outcome (created, exists, valid) or error
${BOOTSTRAP_HELP}

examples:
  sluice topic create orders -p 6
  sluice topic create logs -c retention.ms=3600000 -c cleanup.policy=delete
  sluice topic create -b kafka1:9092,kafka2:9092 events -p 12 -r 3`;

const LIST_HELP = `usage: sluice topic list [options]

Lists topic names, one per line.

options:
  --internal                    include internal topics (__consumer_offsets, …)
  -f, --format text|json        output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice topic list
  sluice topic list --internal --format json`;

const DESCRIBE_HELP = `usage: sluice topic describe [NAME…] [options]

Shows each topic's id, partitions (leader, replicas, in-sync replicas, log start and end offsets) and the
configs it overrides. Without names, describes every topic.

options:
  --internal                    without names: include internal topics (__consumer_offsets, …)
  --all-configs                 show every config with its value and source, not only overrides
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice topic describe
  sluice topic describe orders
  sluice topic describe orders --all-configs --format json`;

const ALTER_HELP = `usage: sluice topic alter NAME [options]

Changes a topic's configs or grows its partition count. Configs not named keep their values.

options:
  -p, --partitions N            grow the topic to N partitions (keyed records may map elsewhere afterwards)
  -c, --config KEY=VALUE        set a topic config; may be repeated
  -d, --delete-config KEY       remove an override (back to the broker default); may be repeated
  --validate-only               check the request without changing anything
  -f, --format text|json        output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice topic alter orders -c retention.ms=604800000
  sluice topic alter orders -d retention.ms
  sluice topic alter orders -p 12`;

const DELETE_HELP = `usage: sluice topic delete NAME [NAME…] [options]

Deletes topics and their data.

options:
  --if-exists                   succeed when a topic does not exist (printed as "not found: NAME")
  -f, --format text|json        text: "deleted: NAME" per topic (default); json: one object per topic
                                with name and outcome (deleted, not-found) or error
${BOOTSTRAP_HELP}

examples:
  sluice topic delete orders
  sluice topic delete old-a old-b --if-exists`;

export const TOPIC_HELP = `usage: sluice topic <action> [options]

Manages topics on any Kafka-compatible broker.

actions:
  create     create topics
  list       list topic names
  describe   show partitions, leaders, offsets and configs
  alter      change configs or add partitions
  delete     delete topics

Run 'sluice topic <action> --help' for an action's options.

examples:
  sluice topic create orders -p 6
  sluice topic describe orders`;

const HELPS: Record<string, string> = {
  create: CREATE_HELP,
  list: LIST_HELP,
  describe: DESCRIBE_HELP,
  alter: ALTER_HELP,
  delete: DELETE_HELP,
};

export const topicHelp = (args: string[]) => helpFor(HELPS, TOPIC_HELP, args);

export async function runTopic(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'create':
      return create(rest);
    case 'list':
      return list(rest);
    case 'describe':
      return describe(rest);
    case 'alter':
      return alter(rest);
    case 'delete':
      return remove(rest);
    case undefined:
      throw new UsageError('missing action: create, list, describe, alter or delete');
    default:
      throw new UsageError(`unknown action "${action}": use create, list, describe, alter or delete`);
  }
}

/** What became of one topic of a create or delete: an outcome word, or an error. */
interface TopicOutcome {
  name: string;
  outcome?: string;
  error?: string;
  message?: string;
}

/**
 * Prints one line per topic: the outcome ("created: orders", "exists: orders (not created)") on stdout, or
 * the error on stderr; with --format json an object per topic on stdout, errors included. Returns the exit
 * code: 1 when any topic failed.
 */
function report(outcomes: TopicOutcome[], format: 'text' | 'json', texts: Record<string, string>): number {
  let failed = 0;
  for (const o of outcomes) {
    if (o.error !== undefined) {
      failed++;
      console.error(`${o.name}: ${o.error}${o.message ? `: ${o.message}` : ''}`);
      if (format === 'json') console.log(toJson(o));
    } else if (format === 'json') {
      console.log(toJson(o));
    } else {
      console.log((texts[o.outcome ?? ''] ?? `${o.outcome}: NAME`).replace('NAME', o.name));
    }
  }
  return failed > 0 ? 1 : 0;
}

/** The outcome of one topic: `done` on success, `tolerated` for an error the user said is fine. */
function outcomeOf(
  r: { name: string; errorCode: number; errorMessage: string | null },
  done: string,
  tolerated?: { errorCode: number; outcome: string },
): TopicOutcome {
  if (r.errorCode === ErrorCode.NONE) return { name: r.name, outcome: done };
  if (tolerated && r.errorCode === tolerated.errorCode) return { name: r.name, outcome: tolerated.outcome };
  return { name: r.name, error: errorName(r.errorCode), message: r.errorMessage ?? undefined };
}

async function create(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...BOOTSTRAP_OPTIONS,
      partitions: { type: 'string', short: 'p' },
      'replication-factor': { type: 'string', short: 'r' },
      config: { type: 'string', short: 'c', multiple: true },
      'if-not-exists': { type: 'boolean' },
      'validate-only': { type: 'boolean' },
      ...FORMAT_OPTION,
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('name at least one topic to create');
  const format = outputFormat(values.format);
  const partitions = int(values.partitions, '--partitions', { min: 1 });
  const replicationFactor = int(values['replication-factor'], '--replication-factor', { min: 1, max: 32767 });
  const configs = keyValues(values.config, '--config');
  return withClient(values, async (client) => {
    const outcomes = await new Admin(client).createTopics(
      positionals.map((name) => ({ name, partitions, replicationFactor, configs })),
      { validateOnly: values['validate-only'] },
    );
    const done = values['validate-only'] ? 'valid' : 'created';
    // With --if-not-exists an existing topic is no failure, but it was not created either: say so.
    const tolerated = values['if-not-exists']
      ? { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, outcome: 'exists' }
      : undefined;
    return report(
      outcomes.map((o) => outcomeOf(o, done, tolerated)),
      format,
      { created: 'created: NAME', valid: 'valid: NAME', exists: 'exists: NAME (not created)' },
    );
  });
}

async function list(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, internal: { type: 'boolean' }, ...FORMAT_OPTION });
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const names = await new Admin(client).listTopics({ includeInternal: values.internal });
    if (format === 'json') console.log(JSON.stringify(names));
    else if (names.length > 0) console.log(names.join('\n'));
    return 0;
  });
}

interface TopicDescription {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: Array<{
    partition: number;
    leader: number;
    replicas: number[];
    isr: number[];
    logStartOffset: bigint;
    logEndOffset: bigint;
  }>;
  configs: Array<{ name: string; value: string | null; source: string; readOnly: boolean }>;
}

async function describe(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...BOOTSTRAP_OPTIONS, 'all-configs': { type: 'boolean' }, internal: { type: 'boolean' }, ...FORMAT_OPTION },
    true,
  );
  if (positionals.length > 0 && values.internal)
    throw new UsageError('--internal applies when describing every topic: leave out the names, or --internal');
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const names = positionals.length > 0 ? positionals : await admin.listTopics({ includeInternal: values.internal });
    if (names.length === 0) return 0;
    const topics = await admin.describeTopics(names);
    const missing = topics.filter((t) => t.errorCode !== ErrorCode.NONE);
    for (const t of missing) console.error(`${t.name}: ${errorName(t.errorCode)}`);
    const found = topics.filter((t) => t.errorCode === ErrorCode.NONE);
    const configs = found.length
      ? await admin.describeConfigs(found.map((t) => ({ type: ResourceType.TOPIC, name: t.name })))
      : [];
    const out: TopicDescription[] = [];
    for (const t of found) {
      const partitions = t.partitions.map((p) => p.partition);
      const [starts, ends] = await Promise.all([
        listOffsets(client, t.name, partitions, 'earliest'),
        listOffsets(client, t.name, partitions, 'latest'),
      ]);
      const c = configs.find((r) => r.name === t.name);
      out.push({
        name: t.name,
        topicId: t.topicId,
        internal: t.internal,
        partitions: t.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          logStartOffset: starts.get(p.partition)?.offset ?? -1n,
          logEndOffset: ends.get(p.partition)?.offset ?? -1n,
        })),
        configs: (c?.configs ?? [])
          .filter((e) => values['all-configs'] || e.source === 1)
          .map((e) => ({
            name: e.name,
            value: e.value,
            source: CONFIG_SOURCE_NAMES[e.source] ?? String(e.source),
            readOnly: e.readOnly,
          })),
      });
    }
    if (format === 'json') {
      for (const d of out) console.log(toJson(d));
    } else {
      console.log(out.map((d) => describeText(d, values['all-configs'] ?? false)).join('\n\n'));
    }
    return missing.length > 0 ? 1 : 0;
  });
}

function describeText(d: TopicDescription, allConfigs: boolean): string {
  const rf = d.partitions[0]?.replicas.length ?? 0;
  const lines = [
    `Topic: ${d.name}  TopicId: ${d.topicId}  Partitions: ${d.partitions.length}  ReplicationFactor: ${rf}${d.internal ? '  Internal: true' : ''}`,
  ];
  lines.push(
    table(
      ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START', 'LOG-END'],
      d.partitions.map((p) => [
        p.partition,
        p.leader,
        p.replicas.join(','),
        p.isr.join(','),
        p.logStartOffset,
        p.logEndOffset,
      ]),
    ),
  );
  if (allConfigs) {
    lines.push(
      '',
      table(
        ['CONFIG', 'VALUE', 'SOURCE'],
        d.configs.map((c) => [c.name, c.value ?? '(sensitive)', c.source]),
      ),
    );
  } else {
    lines.push(
      `Configs: ${d.configs.length === 0 ? '(none overridden)' : d.configs.map((c) => `${c.name}=${c.value}`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function alter(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...BOOTSTRAP_OPTIONS,
      partitions: { type: 'string', short: 'p' },
      config: { type: 'string', short: 'c', multiple: true },
      'delete-config': { type: 'string', short: 'd', multiple: true },
      'validate-only': { type: 'boolean' },
      ...FORMAT_OPTION,
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('name exactly one topic to alter');
  const format = outputFormat(values.format);
  const [name] = positionals;
  const partitions = int(values.partitions, '--partitions', { min: 1 });
  const set = keyValues(values.config, '--config');
  const deletes = values['delete-config'] ?? [];
  if (partitions === undefined && Object.keys(set).length === 0 && deletes.length === 0)
    throw new UsageError('nothing to change: give --partitions, --config or --delete-config');
  const validateOnly = values['validate-only'] ?? false;
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    if (Object.keys(set).length > 0 || deletes.length > 0) {
      const outcome = await alterConfigs(admin, name, set, deletes, validateOnly);
      if (outcome.errorCode !== ErrorCode.NONE) throw new KafkaError(outcome.errorCode, outcome.errorMessage);
      if (format === 'json')
        console.log(
          toJson({ name, outcome: validateOnly ? 'valid' : 'altered', configs: set, deletedConfigs: deletes }),
        );
      else console.log(`${validateOnly ? 'valid' : 'altered'} configs of ${name}`);
    }
    if (partitions !== undefined) {
      const [outcome] = await admin.createPartitions([{ name, count: partitions }], { validateOnly });
      if (outcome.errorCode !== ErrorCode.NONE) throw new KafkaError(outcome.errorCode, outcome.errorMessage);
      if (format === 'json') console.log(toJson({ name, outcome: validateOnly ? 'valid' : 'grown', partitions }));
      else console.log(`${validateOnly ? 'valid' : 'grew'} ${name} to ${partitions} partitions`);
    }
    return 0;
  });
}

/**
 * IncrementalAlterConfigs where the broker has it (Kafka 2.3+); otherwise AlterConfigs with the current
 * overrides merged in, since AlterConfigs replaces the whole set.
 */
async function alterConfigs(
  admin: Admin,
  name: string,
  set: Record<string, string>,
  deletes: string[],
  validateOnly: boolean,
) {
  if (await admin.supportsIncrementalAlterConfigs()) {
    const ops = [
      ...Object.entries(set).map(([key, value]) => ({ name: key, op: 'set' as const, value })),
      ...deletes.map((key) => ({ name: key, op: 'delete' as const })),
    ];
    const [outcome] = await admin.incrementalAlterConfigs([{ type: ResourceType.TOPIC, name, ops }], { validateOnly });
    return outcome;
  }
  const [current] = await admin.describeConfigs([{ type: ResourceType.TOPIC, name }]);
  if (current.errorCode !== ErrorCode.NONE)
    return { name, errorCode: current.errorCode, errorMessage: current.errorMessage };
  const configs: Record<string, string> = {};
  for (const c of current.configs) if (c.source === 1 && c.value !== null) configs[c.name] = c.value;
  for (const key of deletes) delete configs[key];
  Object.assign(configs, set);
  const [outcome] = await admin.alterConfigs([{ type: ResourceType.TOPIC, name, configs }], { validateOnly });
  return outcome;
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...BOOTSTRAP_OPTIONS, 'if-exists': { type: 'boolean' }, ...FORMAT_OPTION },
    true,
  );
  if (positionals.length === 0) throw new UsageError('name at least one topic to delete');
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const outcomes = await new Admin(client).deleteTopics(positionals);
    // With --if-exists a missing topic is no failure, but nothing was deleted: say so.
    const tolerated = values['if-exists']
      ? { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, outcome: 'not-found' }
      : undefined;
    return report(
      outcomes.map((o) => outcomeOf(o, 'deleted', tolerated)),
      format,
      { deleted: 'deleted: NAME', 'not-found': 'not found: NAME (nothing deleted)' },
    );
  });
}

/**
 * `sluice group list|describe|reset-offsets|delete-offsets|delete`: consumer groups, their members, offsets and
 * lag, with the reset scenarios of kafka-consumer-groups.sh.
 */
import { readFile } from 'node:fs/promises';
import { Admin, type CommittedOffset, type GroupDescription } from '../client/admin.js';
import type { KafkaClient } from '../client/client.js';
import { listOffsets, type OffsetSpec } from '../client/consumer.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { bigint, FORMAT_OPTION, helpFor, outputFormat, parse, table, toJson, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';
import { explainGroupError, GROUP_ERROR_EXPLANATIONS } from './group-errors.js';
import { Progress } from './progress.js';
import { formatResetPlan, type PlannedOffset, parseDateTime, parseDuration, parseResetPlan } from './reset-specs.js';

const LIST_HELP = `usage: sluice group list [options]

Lists consumer groups with their state and protocol type.

options:
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group list`;

const DESCRIBE_HELP = `usage: sluice group describe (GROUP [GROUP…] | --all-groups) [options]

Shows a group's state, its members with their assigned partitions, and per partition the committed
offset, the log end offset and the lag between them.

options:
  --all-groups                  describe every consumer group
  -f, --format text|json        output format (default text; json: one object per line per group); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group describe billing
  sluice group describe --all-groups --format json`;

const RESET_HELP = `usage: sluice group reset-offsets GROUP (--topic T[:P,…] … | --all-topics) SCENARIO [--execute]
       sluice group reset-offsets GROUP --from-file FILE [--execute]

Moves a group's committed offsets. Shows the plan only, unless --execute is given. As in Kafka, the group
must have no active members: stop its consumers first. The options follow kafka-consumer-groups.sh.

scope:
  --topic TOPIC[:P,P,…]         reset this topic (only the listed partitions); may be repeated
  --all-topics                  reset every topic the group has offsets for

scenario (exactly one):
  --to-earliest                 to the log start
  --to-latest                   to the log end (skip everything not consumed yet)
  --to-current                  to the committed offset (the log end where there is none)
  --to-offset N                 to offset N
  --shift-by N                  move the committed offset by N (negative: back)
  --to-timestamp MS             to the first record at or after MS (epoch ms)
  --to-datetime YYYY-MM-DDTHH:mm:SS.sss[zone]
                                to the first record at or after that time (UTC without a zone)
  --by-duration PnDTnHnMnS      to the first record at or after that long ago, e.g. PT30M, P1DT12H
  --from-file FILE              to the offsets of a CSV file of topic,partition,offset lines (as --export
                                writes them); the file names the partitions, so no --topic
Offsets from --to-offset, --shift-by and --from-file are kept within the log: below its start they move to
the start, past its end to the end. A time with no record at or after it gives the log end.

options:
  --execute                     apply the plan (default: dry run)
  --export                      print the plan as topic,partition,offset CSV (for --from-file)
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group reset-offsets billing --topic orders --to-earliest
  sluice group reset-offsets billing --topic orders:0,1 --shift-by -100 --execute
  sluice group reset-offsets billing --all-topics --by-duration PT1H --execute
  sluice group reset-offsets billing --all-topics --to-current --export > billing.csv
  sluice group reset-offsets billing --from-file billing.csv --execute`;

const DELETE_OFFSETS_HELP = `usage: sluice group delete-offsets GROUP --topic TOPIC[:P,P,…] … [options]

Deletes a group's committed offsets of a topic (all its partitions, or the listed ones); the group then
starts these partitions as its consumers' auto.offset.reset says. Allowed while the group is empty, and for
topics none of its members subscribes to.

options:
  --topic TOPIC[:P,P,…]         delete the offsets of this topic (only the listed partitions); may be repeated
  --format text|json            output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice group delete-offsets billing --topic old-orders
  sluice group delete-offsets billing --topic orders:0,1`;

const DELETE_HELP = `usage: sluice group delete GROUP [GROUP…] [options]

Deletes empty groups and their committed offsets.

options:
  --format text|json            output format (default text)
${BOOTSTRAP_HELP}

examples:
  sluice group delete old-billing`;

export const GROUP_HELP = `usage: sluice group <action> [options]

Inspects and manages consumer groups on any Kafka-compatible broker.

actions:
  list             list groups
  describe         members, assignments, committed offsets and lag
  reset-offsets    move a group's committed offsets (dry run unless --execute)
  delete-offsets   delete a group's committed offsets of some topics
  delete           delete empty groups

Run 'sluice group <action> --help' for an action's options.

errors the group actions explain:
${[...GROUP_ERROR_EXPLANATIONS.keys()].map((code) => `  ${explainGroupError(code, 'GROUP')}`).join('\n')}

examples:
  sluice group list
  sluice group describe billing
  sluice group reset-offsets billing --topic orders --to-earliest --execute`;

const HELPS: Record<string, string> = {
  list: LIST_HELP,
  describe: DESCRIBE_HELP,
  'reset-offsets': RESET_HELP,
  'delete-offsets': DELETE_OFFSETS_HELP,
  delete: DELETE_HELP,
};

export const groupHelp = (args: string[]) => helpFor(HELPS, GROUP_HELP, args);

const ACTIONS = 'list, describe, reset-offsets, delete-offsets or delete';

export async function runGroup(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'list':
      return list(rest);
    case 'describe':
      return describe(rest);
    case 'reset-offsets':
      return resetOffsets(rest);
    case 'delete-offsets':
      return deleteOffsets(rest);
    case 'delete':
      return remove(rest);
    case undefined:
      throw new UsageError(`missing action: ${ACTIONS}`);
    default:
      throw new UsageError(`unknown action "${action}": use ${ACTIONS}`);
  }
}

async function list(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION });
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const groups = await new Admin(client).listGroups();
    if (format === 'json') {
      console.log(toJson(groups.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType }))));
    } else if (groups.length > 0) {
      console.log(
        table(
          ['GROUP', 'STATE', 'PROTOCOL-TYPE'],
          groups.map((g) => [g.groupId, g.state ?? '-', g.protocolType || '-']),
        ),
      );
    }
    return 0;
  });
}

interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: bigint | null;
  logEndOffset: bigint | null;
  lag: bigint | null;
  memberId: string | null;
}

async function lagOf(
  client: KafkaClient,
  group: GroupDescription,
  committed: CommittedOffset[],
): Promise<PartitionLag[]> {
  const owner = new Map<string, string>();
  const keys = new Map<string, { topic: string; partition: number }>();
  for (const m of group.members)
    for (const a of m.assignment)
      for (const p of a.partitions) {
        owner.set(`${a.topic}\0${p}`, m.memberId);
        keys.set(`${a.topic}\0${p}`, { topic: a.topic, partition: p });
      }
  const offsets = new Map<string, bigint>();
  for (const c of committed) {
    keys.set(`${c.topic}\0${c.partition}`, { topic: c.topic, partition: c.partition });
    if (c.offset >= 0n) offsets.set(`${c.topic}\0${c.partition}`, c.offset);
  }
  const ends = new Map<string, bigint>();
  for (const [topic, partitions] of byTopic(keys.values())) {
    try {
      for (const [p, v] of await listOffsets(client, topic, partitions, 'latest')) ends.set(`${topic}\0${p}`, v.offset);
    } catch {
      // A deleted topic still has committed offsets; its log end is unknown.
    }
  }
  return [...keys]
    .map(([id, k]) => {
      const c = offsets.get(id);
      const end = ends.get(id);
      return {
        topic: k.topic,
        partition: k.partition,
        committedOffset: c ?? null,
        logEndOffset: end ?? null,
        lag: c === undefined || end === undefined ? null : end - c,
        memberId: owner.get(id) ?? null,
      };
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Partitions grouped by topic, in first-seen order. */
function byTopic(partitions: Iterable<{ topic: string; partition: number }>): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of partitions) {
    let list = out.get(p.topic);
    if (!list) out.set(p.topic, (list = []));
    list.push(p.partition);
  }
  return out;
}

async function describe(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...BOOTSTRAP_OPTIONS, 'all-groups': { type: 'boolean' }, ...FORMAT_OPTION },
    true,
  );
  if (positionals.length === 0 && !values['all-groups'])
    throw new UsageError('name at least one group to describe, or give --all-groups');
  if (positionals.length > 0 && values['all-groups'])
    throw new UsageError('name groups or give --all-groups, not both');
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    // Like Kafka's tool, --all-groups means consumer groups: those of the consumer protocol, or with no
    // protocol yet (only committed offsets).
    const groupIds = values['all-groups']
      ? (await admin.listGroups())
          .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
          .map((g) => g.groupId)
      : positionals;
    let failed = 0;
    const texts: string[] = [];
    for (const g of await admin.describeGroups(groupIds)) {
      if (g.errorCode !== ErrorCode.NONE) {
        console.error(explainGroupError(g.errorCode, g.groupId));
        failed++;
        continue;
      }
      const committed = await admin.fetchOffsets(g.groupId);
      if (g.state === 'Dead' && committed.length === 0) {
        console.error(explainGroupError(ErrorCode.GROUP_ID_NOT_FOUND, g.groupId));
        failed++;
        continue;
      }
      const lag = await lagOf(client, g, committed);
      const members = g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: m.assignment,
      }));
      if (format === 'json') {
        console.log(
          toJson({
            group: g.groupId,
            state: g.state,
            protocolType: g.protocolType,
            protocol: g.protocol,
            coordinator: g.coordinator,
            members,
            partitions: lag.map((l) => ({
              topic: l.topic,
              partition: l.partition,
              committedOffset: l.committedOffset,
              logEndOffset: l.logEndOffset,
              lag: l.lag,
              memberId: l.memberId,
            })),
          }),
        );
        continue;
      }
      const lines = [
        `Group: ${g.groupId}  State: ${g.state}  Protocol: ${g.protocolType || '-'}/${g.protocol || '-'}  Coordinator: ${g.coordinator}  Members: ${g.members.length}`,
      ];
      if (members.length > 0) {
        lines.push(
          '',
          table(
            ['MEMBER-ID', 'CLIENT-ID', 'HOST', 'ASSIGNMENT'],
            members.map((m) => [
              m.memberId,
              m.clientId,
              m.host,
              m.assignment.map((a) => `${a.topic}:${a.partitions.join(',')}`).join(' ') || '-',
            ]),
          ),
        );
      }
      if (lag.length > 0) {
        lines.push(
          '',
          table(
            ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'MEMBER-ID'],
            lag.map((l) => [
              l.topic,
              l.partition,
              l.committedOffset ?? '-',
              l.logEndOffset ?? '-',
              l.lag ?? '-',
              l.memberId ?? '-',
            ]),
          ),
        );
      }
      texts.push(lines.join('\n'));
    }
    if (texts.length > 0) console.log(texts.join('\n\n'));
    return failed > 0 ? 1 : 0;
  });
}

/** `orders` or `orders:0,1,2`. */
function parseTopicSpec(spec: string): { topic: string; partitions: number[] | null } {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { topic: spec, partitions: null };
  const topic = spec.slice(0, colon);
  const list = spec.slice(colon + 1).split(',');
  if (topic === '' || list.some((p) => !/^\d+$/.test(p)))
    throw new UsageError(`--topic expects TOPIC or TOPIC:P,P,…, got "${spec}"`);
  return { topic, partitions: list.map(Number) };
}

/** The partitions `specs` name: all of a topic's when none are listed. Unknown topics and partitions are errors. */
async function resolveTopicSpecs(
  client: KafkaClient,
  specs: Array<{ topic: string; partitions: number[] | null }>,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const spec of specs) {
    const t = await client.topic(spec.topic);
    const all = t.partitions.map((p) => p.partition).sort((a, b) => a - b);
    const bad = spec.partitions?.find((p) => !all.includes(p));
    if (bad !== undefined)
      throw new Error(`topic "${spec.topic}" has ${all.length} partitions; there is no partition ${bad}`);
    const list = out.get(spec.topic) ?? [];
    for (const p of spec.partitions ?? all) if (!list.includes(p)) list.push(p);
    out.set(spec.topic, list);
  }
  return out;
}

/** How reset-offsets picks each partition's new offset: one of kafka-consumer-groups.sh's scenarios. */
type Scenario =
  | { kind: 'earliest' | 'latest' | 'current' }
  | { kind: 'timestamp'; timestamp: bigint }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'shift'; by: bigint }
  | { kind: 'file'; path: string };

function scenarioOf(values: {
  'to-earliest'?: boolean;
  'to-latest'?: boolean;
  'to-current'?: boolean;
  'to-timestamp'?: string;
  'to-datetime'?: string;
  'by-duration'?: string;
  'to-offset'?: string;
  'shift-by'?: string;
  'from-file'?: string;
}): Scenario {
  const given = (
    [
      'to-earliest',
      'to-latest',
      'to-current',
      'to-timestamp',
      'to-datetime',
      'by-duration',
      'to-offset',
      'shift-by',
      'from-file',
    ] as const
  ).filter((k) => values[k] !== undefined && values[k] !== false);
  if (given.length !== 1)
    throw new UsageError(
      `give exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-timestamp, --to-datetime, --by-duration, --from-file${given.length > 1 ? ` (got ${given.map((k) => `--${k}`).join(', ')})` : ''}`,
    );
  switch (given[0]) {
    case 'to-earliest':
      return { kind: 'earliest' };
    case 'to-latest':
      return { kind: 'latest' };
    case 'to-current':
      return { kind: 'current' };
    case 'to-timestamp':
      return { kind: 'timestamp', timestamp: bigint(values['to-timestamp'], '--to-timestamp') as bigint };
    case 'to-datetime':
      return { kind: 'timestamp', timestamp: parseDateTime(values['to-datetime'] as string) };
    case 'by-duration':
      return { kind: 'timestamp', timestamp: BigInt(Date.now()) - parseDuration(values['by-duration'] as string) };
    case 'to-offset': {
      const offset = bigint(values['to-offset'], '--to-offset') as bigint;
      if (offset < 0n) throw new UsageError('--to-offset must be 0 or more');
      return { kind: 'offset', offset };
    }
    case 'shift-by':
      return { kind: 'shift', by: bigint(values['shift-by'], '--shift-by') as bigint };
    default:
      return { kind: 'file', path: values['from-file'] as string };
  }
}

const COMMIT_CHUNK = 500;

interface PlanRow extends PlannedOffset {
  currentOffset: bigint | null;
}

/** Option values that may start with a dash: a negative shift, a negative duration (a time in the future). */
const DASHED_VALUES = new Map<string, RegExp>([
  ['--shift-by', /^-\d+$/],
  ['--by-duration', /^-P/i],
]);

/**
 * `--shift-by -10` as kafka-consumer-groups.sh takes it: node's parser would read `-10` as an option, so such
 * a value is joined to its option first.
 */
function joinDashedValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const pattern = DASHED_VALUES.get(args[i]);
    if (pattern?.test(args[i + 1] ?? '')) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]);
  }
  return out;
}

async function resetOffsets(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    joinDashedValues(args),
    {
      ...BOOTSTRAP_OPTIONS,
      topic: { type: 'string', multiple: true },
      'all-topics': { type: 'boolean' },
      'to-earliest': { type: 'boolean' },
      'to-latest': { type: 'boolean' },
      'to-current': { type: 'boolean' },
      'to-timestamp': { type: 'string' },
      'to-datetime': { type: 'string' },
      'by-duration': { type: 'string' },
      'to-offset': { type: 'string' },
      'shift-by': { type: 'string' },
      'from-file': { type: 'string' },
      execute: { type: 'boolean' },
      export: { type: 'boolean' },
      ...FORMAT_OPTION,
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('name exactly one group');
  const [groupId] = positionals;
  const format = outputFormat(values.format);
  if (values.export && values.format !== undefined) throw new UsageError('--export and --format cannot be combined');
  const scenario = scenarioOf(values);
  const topicSpecs = (values.topic ?? []).map(parseTopicSpec);
  if (scenario.kind === 'file') {
    if (topicSpecs.length > 0 || values['all-topics'])
      throw new UsageError('--from-file takes its partitions from the file: leave out --topic and --all-topics');
  } else {
    if (topicSpecs.length === 0 && !values['all-topics']) throw new UsageError('give --topic TOPIC or --all-topics');
    if (topicSpecs.length > 0 && values['all-topics'])
      throw new UsageError('--topic and --all-topics cannot be combined');
  }
  const fromFile =
    scenario.kind === 'file' ? parseResetPlan(await readPlanFile(scenario.path), groupId, scenario.path) : null;

  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const [group] = await admin.describeGroups([groupId]);
    if (group.errorCode !== ErrorCode.NONE && group.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND)
      throw new Error(explainGroupError(group.errorCode, groupId));
    // Like Kafka's tool: only an inactive group (Empty, Dead or unknown) may be reset; a member that is
    // still joining counts as active.
    if (group.errorCode === ErrorCode.NONE && (group.members.length > 0 || !INACTIVE_STATES.has(group.state)))
      throw activeGroupError(groupId, group);
    const committed = await admin.fetchOffsets(groupId);
    const current = new Map(
      committed.filter((c) => c.offset >= 0n).map((c) => [`${c.topic}\0${c.partition}`, c.offset]),
    );
    let wanted: Map<string, number[]>;
    if (fromFile) {
      wanted = await resolveTopicSpecs(
        client,
        [...byTopic(fromFile)].map(([topic, partitions]) => ({ topic, partitions })),
      );
    } else if (values['all-topics']) {
      wanted = byTopic(committed);
      if (wanted.size === 0) throw new Error(`group "${groupId}" has no committed offsets; name topics with --topic`);
    } else {
      wanted = await resolveTopicSpecs(client, topicSpecs);
    }
    const requested = new Map(fromFile?.map((p) => [`${p.topic}\0${p.partition}`, p.offset]));

    const total = [...wanted.values()].reduce((n, l) => n + l.length, 0);
    const planning = new Progress('looking up offsets', total);
    const plan: PlanRow[] = [];
    for (const [topic, partitions] of wanted) {
      const key = (p: number) => `${topic}\0${p}`;
      const lookup = (spec: OffsetSpec) => listOffsets(client, topic, partitions, spec);
      let offsets: Map<number, bigint>;
      switch (scenario.kind) {
        case 'earliest':
        case 'latest': {
          const found = await lookup(scenario.kind);
          offsets = new Map(partitions.map((p) => [p, found.get(p)?.offset ?? 0n]));
          break;
        }
        case 'timestamp': {
          // listOffsets answers the log end for a partition with no record at or after the time, as Kafka's tool does.
          const found = await lookup({ timestamp: scenario.timestamp });
          offsets = new Map(partitions.map((p) => [p, found.get(p)?.offset ?? 0n]));
          break;
        }
        case 'current': {
          // A partition without a committed offset gets the log end, as in Kafka's tool.
          const missing = partitions.filter((p) => !current.has(key(p)));
          const ends = missing.length > 0 ? await listOffsets(client, topic, missing, 'latest') : new Map();
          offsets = new Map(partitions.map((p) => [p, current.get(key(p)) ?? ends.get(p)?.offset ?? 0n]));
          break;
        }
        case 'offset':
        case 'shift':
        case 'file': {
          const target = (p: number): bigint => {
            if (scenario.kind === 'offset') return scenario.offset;
            if (scenario.kind === 'file') return requested.get(key(p)) ?? 0n;
            const c = current.get(key(p));
            if (c === undefined)
              throw new Error(
                `cannot shift partition ${topic}-${p}: group "${groupId}" has no committed offset for it (use another scenario for it, e.g. --to-earliest)`,
              );
            return c + scenario.by;
          };
          offsets = await clampToLog(client, topic, new Map(partitions.map((p) => [p, target(p)])));
          break;
        }
      }
      for (const partition of partitions)
        plan.push({
          topic,
          partition,
          currentOffset: current.get(key(partition)) ?? null,
          offset: offsets.get(partition) ?? 0n,
        });
      planning.update(plan.length);
    }
    planning.finish();

    if (values.execute) await commitPlan(admin, groupId, plan);
    if (values.export) {
      process.stdout.write(formatResetPlan(plan));
    } else if (format === 'json') {
      for (const p of plan)
        console.log(
          toJson({
            group: groupId,
            topic: p.topic,
            partition: p.partition,
            currentOffset: p.currentOffset,
            newOffset: p.offset,
          }),
        );
    } else {
      console.log(
        table(
          ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
          plan.map((p) => [p.topic, p.partition, p.currentOffset ?? '-', p.offset]),
        ),
      );
    }
    console.error(
      values.execute
        ? `reset ${plan.length} partition(s) of group ${groupId}`
        : 'dry run: nothing changed; add --execute to apply',
    );
    return 0;
  });
}

async function readPlanFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--from-file: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * Kafka's tool keeps a requested offset within the log: past the log end it becomes the end, below the log
 * start the start (the end is checked first).
 */
async function clampToLog(
  client: KafkaClient,
  topic: string,
  requested: Map<number, bigint>,
): Promise<Map<number, bigint>> {
  const partitions = [...requested.keys()];
  const [starts, ends] = await Promise.all([
    listOffsets(client, topic, partitions, 'earliest'),
    listOffsets(client, topic, partitions, 'latest'),
  ]);
  const out = new Map<number, bigint>();
  for (const [p, offset] of requested) {
    const start = starts.get(p)?.offset ?? 0n;
    const end = ends.get(p)?.offset ?? 0n;
    out.set(p, offset > end ? end : offset < start ? start : offset);
  }
  return out;
}

async function commitPlan(admin: Admin, groupId: string, plan: PlanRow[]): Promise<void> {
  const committing = new Progress('committing offsets', plan.length);
  const failures: string[] = [];
  for (let i = 0; i < plan.length; i += COMMIT_CHUNK) {
    const chunk = plan.slice(i, i + COMMIT_CHUNK);
    const results = await admin.commitOffsets(
      groupId,
      chunk.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.offset })),
    );
    for (const r of results) {
      // A consumer joined between the check above and this commit: the coordinator refuses a commit without a
      // generation once the group has members.
      if (MEMBER_JOINED_ERRORS.has(r.errorCode))
        throw activeGroupError(groupId, (await admin.describeGroups([groupId]))[0]);
      if (r.errorCode !== ErrorCode.NONE)
        failures.push(`${r.topic}-${r.partition}: ${explainGroupError(r.errorCode, groupId)}`);
    }
    committing.update(Math.min(i + COMMIT_CHUNK, plan.length));
  }
  committing.finish();
  if (failures.length > 0)
    throw new Error(`${failures.length} partition(s) not reset: ${failures.slice(0, 5).join('; ')}`);
}

const INACTIVE_STATES = new Set(['Empty', 'Dead']);
const MEMBER_JOINED_ERRORS = new Set<number>([
  ErrorCode.UNKNOWN_MEMBER_ID,
  ErrorCode.ILLEGAL_GENERATION,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

function activeGroupError(groupId: string, group: { members: unknown[]; state: string }): Error {
  const n = group.members.length;
  return new Error(
    `group "${groupId}" has ${n} active member${n === 1 ? '' : 's'} (state ${group.state}): stop its consumers first; offsets can only be reset in an empty group`,
  );
}

async function deleteOffsets(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...BOOTSTRAP_OPTIONS, topic: { type: 'string', multiple: true }, ...FORMAT_OPTION },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('name exactly one group');
  const [groupId] = positionals;
  const topicSpecs = (values.topic ?? []).map(parseTopicSpec);
  if (topicSpecs.length === 0) throw new UsageError('give --topic TOPIC[:P,…] (may be repeated)');
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const wanted = await resolveTopicSpecs(client, topicSpecs);
    const result = await admin.deleteOffsets(
      groupId,
      [...wanted].map(([topic, partitions]) => ({ topic, partitions })),
    );
    if (result.errorCode !== ErrorCode.NONE) throw new Error(explainGroupError(result.errorCode, groupId));
    const failed = result.partitions.filter((p) => p.errorCode !== ErrorCode.NONE);
    if (format === 'json') {
      for (const p of result.partitions)
        console.log(
          toJson({
            group: groupId,
            topic: p.topic,
            partition: p.partition,
            error: p.errorCode === ErrorCode.NONE ? null : errorName(p.errorCode),
          }),
        );
    } else {
      console.log(
        table(
          ['TOPIC', 'PARTITION', 'STATUS'],
          result.partitions.map((p) => [
            p.topic,
            p.partition,
            p.errorCode === ErrorCode.NONE ? 'deleted' : explainGroupError(p.errorCode, groupId),
          ]),
        ),
      );
    }
    if (failed.length > 0) {
      console.error(`${failed.length} partition(s) kept their offsets`);
      return 1;
    }
    console.error(`deleted the offsets of ${result.partitions.length} partition(s) of group ${groupId}`);
    return 0;
  });
}

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION }, true);
  if (positionals.length === 0) throw new UsageError('name at least one group to delete');
  const format = outputFormat(values.format);
  return withClient(values, async (client) => {
    let failed = 0;
    for (const o of await new Admin(client).deleteGroups(positionals)) {
      if (format === 'json') {
        const error = o.errorCode === ErrorCode.NONE ? null : errorName(o.errorCode);
        console.log(toJson({ group: o.name, error, explanation: error && explainGroupError(o.errorCode, o.name) }));
        if (error) failed++;
      } else if (o.errorCode === ErrorCode.NONE) console.log(`deleted: ${o.name}`);
      else {
        failed++;
        console.error(`${o.name}: ${explainGroupError(o.errorCode, o.name)}`);
      }
    }
    return failed > 0 ? 1 : 0;
  });
}

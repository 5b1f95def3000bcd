/** `sluice group list|describe|reset-offsets|delete`: consumer groups, their members, offsets and lag. */
import { Admin, type CommittedOffset, type GroupDescription } from '../client/admin.js';
import type { KafkaClient } from '../client/client.js';
import { listOffsets, type OffsetSpec } from '../client/consumer.js';
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { bigint, FORMAT_OPTION, helpFor, oneOf, parse, table, toJson, UsageError } from './args.js';
import { BOOTSTRAP_HELP, BOOTSTRAP_OPTIONS, withClient } from './bootstrap.js';
import { Progress } from './progress.js';

const LIST_HELP = `usage: sluice group list [options]

Lists consumer groups with their state and protocol type.

options:
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group list`;

const DESCRIBE_HELP = `usage: sluice group describe GROUP [GROUP…] [options]

Shows a group's state, its members with their assigned partitions, and per partition the committed
offset, the log end offset and the lag between them.

options:
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group describe billing
  sluice group describe billing --format json`;

const RESET_HELP = `usage: sluice group reset-offsets GROUP (--topic T[:P,…] … | --all-topics) --to-… [--execute]

Moves a group's committed offsets. Shows the plan only, unless --execute is given. As in Kafka, the group
must have no active members: stop its consumers first.

options:
  --topic TOPIC[:P,P,…]         reset this topic (only the listed partitions); may be repeated
  --all-topics                  reset every topic the group has offsets for
  --to-earliest                 to the log start
  --to-latest                   to the log end (skip everything not consumed yet)
  --to-timestamp MS             to the first record at or after MS (epoch ms)
  --to-offset N                 to offset N (kept within the log start and end)
  --execute                     apply the plan (default: dry run)
  -f, --format text|json        output format (default text); offsets are JSON numbers
${BOOTSTRAP_HELP}

examples:
  sluice group reset-offsets billing --topic orders --to-earliest
  sluice group reset-offsets billing --topic orders:0,1 --to-offset 500 --execute
  sluice group reset-offsets billing --all-topics --to-timestamp 1718000000000 --execute`;

const DELETE_HELP = `usage: sluice group delete GROUP [GROUP…] [options]

Deletes empty groups and their committed offsets.

options:
${BOOTSTRAP_HELP}

examples:
  sluice group delete old-billing`;

export const GROUP_HELP = `usage: sluice group <action> [options]

Inspects and manages consumer groups on any Kafka-compatible broker.

actions:
  list            list groups
  describe        members, assignments, committed offsets and lag
  reset-offsets   move a group's committed offsets (dry run unless --execute)
  delete          delete empty groups

Run 'sluice group <action> --help' for an action's options.

examples:
  sluice group list
  sluice group describe billing
  sluice group reset-offsets billing --topic orders --to-earliest --execute`;

const HELPS: Record<string, string> = {
  list: LIST_HELP,
  describe: DESCRIBE_HELP,
  'reset-offsets': RESET_HELP,
  delete: DELETE_HELP,
};

export const groupHelp = (args: string[]) => helpFor(HELPS, GROUP_HELP, args);

export async function runGroup(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  switch (action) {
    case 'list':
      return list(rest);
    case 'describe':
      return describe(rest);
    case 'reset-offsets':
      return resetOffsets(rest);
    case 'delete':
      return remove(rest);
    case undefined:
      throw new UsageError('missing action: list, describe, reset-offsets or delete');
    default:
      throw new UsageError(`unknown action "${action}": use list, describe, reset-offsets or delete`);
  }
}

async function list(args: string[]): Promise<number> {
  const { values } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION });
  const format = oneOf(values.format, '--format', ['text', 'json'], 'text');
  return withClient(values, async (client) => {
    const groups = await new Admin(client).listGroups();
    if (format === 'json') {
      console.log(
        JSON.stringify(groups.map((g) => ({ group: g.groupId, state: g.state, protocolType: g.protocolType }))),
      );
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
  logEndOffset: bigint;
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
  const byTopic = new Map<string, number[]>();
  for (const k of keys.values()) {
    let list = byTopic.get(k.topic);
    if (!list) byTopic.set(k.topic, (list = []));
    list.push(k.partition);
  }
  const ends = new Map<string, bigint>();
  for (const [topic, partitions] of byTopic) {
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
        logEndOffset: end ?? -1n,
        lag: c === undefined || end === undefined ? null : end - c,
        memberId: owner.get(id) ?? null,
      };
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

async function describe(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...BOOTSTRAP_OPTIONS, ...FORMAT_OPTION }, true);
  if (positionals.length === 0) throw new UsageError('name at least one group to describe');
  const format = oneOf(values.format, '--format', ['text', 'json'], 'text');
  return withClient(values, async (client) => {
    const admin = new Admin(client);
    let failed = 0;
    const texts: string[] = [];
    for (const g of await admin.describeGroups(positionals)) {
      if (g.errorCode !== ErrorCode.NONE) {
        console.error(`${g.groupId}: ${errorName(g.errorCode)}`);
        failed++;
        continue;
      }
      const committed = await admin.fetchOffsets(g.groupId);
      if (g.state === 'Dead' && committed.length === 0) {
        console.error(`${g.groupId}: no such group`);
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
            partitions: lag,
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
              l.logEndOffset < 0n ? '-' : l.logEndOffset,
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

const COMMIT_CHUNK = 500;

async function resetOffsets(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...BOOTSTRAP_OPTIONS,
      topic: { type: 'string', multiple: true },
      'all-topics': { type: 'boolean' },
      'to-earliest': { type: 'boolean' },
      'to-latest': { type: 'boolean' },
      'to-timestamp': { type: 'string' },
      'to-offset': { type: 'string' },
      execute: { type: 'boolean' },
      ...FORMAT_OPTION,
    },
    true,
  );
  if (positionals.length !== 1) throw new UsageError('name exactly one group');
  const [groupId] = positionals;
  const format = oneOf(values.format, '--format', ['text', 'json'], 'text');
  const targets = [
    values['to-earliest'] && '--to-earliest',
    values['to-latest'] && '--to-latest',
    values['to-timestamp'] !== undefined && '--to-timestamp',
    values['to-offset'] !== undefined && '--to-offset',
  ].filter(Boolean);
  if (targets.length !== 1)
    throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-timestamp, --to-offset');
  const topicSpecs = (values.topic ?? []).map(parseTopicSpec);
  if (topicSpecs.length === 0 && !values['all-topics']) throw new UsageError('give --topic TOPIC or --all-topics');
  if (topicSpecs.length > 0 && values['all-topics'])
    throw new UsageError('--topic and --all-topics cannot be combined');
  const toTimestamp = bigint(values['to-timestamp'], '--to-timestamp');
  const toOffset = bigint(values['to-offset'], '--to-offset');
  if (toOffset !== undefined && toOffset < 0n) throw new UsageError('--to-offset must be 0 or more');

  return withClient(values, async (client) => {
    const admin = new Admin(client);
    const [group] = await admin.describeGroups([groupId]);
    if (group.errorCode !== ErrorCode.NONE) throw new Error(`group "${groupId}": ${errorName(group.errorCode)}`);
    // Like Kafka's tool: only an inactive group (Empty or Dead) may be reset; a member that is still joining counts.
    if (group.members.length > 0 || !INACTIVE_STATES.has(group.state)) throw activeGroupError(groupId, group);
    const committed = await admin.fetchOffsets(groupId);
    const current = new Map(committed.map((c) => [`${c.topic}\0${c.partition}`, c.offset]));
    const wanted = new Map<string, number[]>();
    if (values['all-topics']) {
      for (const c of committed) {
        let list = wanted.get(c.topic);
        if (!list) wanted.set(c.topic, (list = []));
        list.push(c.partition);
      }
      if (wanted.size === 0) throw new Error(`group "${groupId}" has no committed offsets; name topics with --topic`);
    } else {
      for (const spec of topicSpecs) {
        const t = await client.topic(spec.topic);
        const all = t.partitions.map((p) => p.partition);
        const bad = spec.partitions?.find((p) => !all.includes(p));
        if (bad !== undefined)
          throw new Error(`topic "${spec.topic}" has ${all.length} partitions; there is no partition ${bad}`);
        wanted.set(spec.topic, spec.partitions ?? all);
      }
    }
    const total = [...wanted.values()].reduce((n, l) => n + l.length, 0);
    const planning = new Progress('looking up offsets', total);
    const plan: Array<{ topic: string; partition: number; currentOffset: bigint | null; newOffset: bigint }> = [];
    for (const [topic, partitions] of wanted) {
      const spec: OffsetSpec = values['to-earliest']
        ? 'earliest'
        : values['to-latest']
          ? 'latest'
          : toTimestamp !== undefined
            ? { timestamp: toTimestamp }
            : 'earliest';
      const found = await listOffsets(client, topic, partitions, spec);
      const ends = toOffset !== undefined ? await listOffsets(client, topic, partitions, 'latest') : null;
      for (const partition of partitions) {
        let offset = found.get(partition)?.offset ?? 0n;
        if (toOffset !== undefined && ends) {
          // Kafka's tool keeps a requested offset within the log: below the start → start, past the end → end.
          const end = ends.get(partition)?.offset ?? 0n;
          offset = toOffset < offset ? offset : toOffset > end ? end : toOffset;
        }
        const c = current.get(`${topic}\0${partition}`);
        plan.push({ topic, partition, currentOffset: c === undefined || c < 0n ? null : c, newOffset: offset });
      }
      planning.update(plan.length);
    }
    planning.finish();

    if (values.execute) {
      const committing = new Progress('committing offsets', plan.length);
      const failures: string[] = [];
      for (let i = 0; i < plan.length; i += COMMIT_CHUNK) {
        const chunk = plan.slice(i, i + COMMIT_CHUNK);
        const results = await admin.commitOffsets(
          groupId,
          chunk.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })),
        );
        for (const r of results) {
          // A consumer joined between the check above and this commit: the coordinator refuses a commit without a
          // generation once the group has members.
          if (MEMBER_JOINED_ERRORS.has(r.errorCode))
            throw activeGroupError(groupId, (await admin.describeGroups([groupId]))[0]);
          if (r.errorCode !== ErrorCode.NONE) failures.push(`${r.topic}-${r.partition}: ${errorName(r.errorCode)}`);
        }
        committing.update(Math.min(i + COMMIT_CHUNK, plan.length));
      }
      committing.finish();
      if (failures.length > 0)
        throw new Error(`${failures.length} partition(s) not reset: ${failures.slice(0, 5).join('; ')}`);
    }
    if (format === 'json') {
      for (const p of plan)
        console.log(
          toJson({
            group: groupId,
            topic: p.topic,
            partition: p.partition,
            currentOffset: p.currentOffset,
            newOffset: p.newOffset,
          }),
        );
    } else {
      console.log(
        table(
          ['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'NEW-OFFSET'],
          plan.map((p) => [p.topic, p.partition, p.currentOffset ?? '-', p.newOffset]),
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

async function remove(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { ...BOOTSTRAP_OPTIONS }, true);
  if (positionals.length === 0) throw new UsageError('name at least one group to delete');
  return withClient(values, async (client) => {
    let failed = 0;
    for (const o of await new Admin(client).deleteGroups(positionals)) {
      if (o.errorCode === ErrorCode.NONE) console.log(`deleted: ${o.name}`);
      else {
        failed++;
        console.error(`${o.name}: ${errorName(o.errorCode)}`);
      }
    }
    return failed > 0 ? 1 : 0;
  });
}

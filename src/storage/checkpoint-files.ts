/**
 * Kafka's small text files, same names and formats, so Kafka's tools and habits apply:
 *
 * - `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` (log dir root):
 *   "0\n<count>\n" then "<topic> <partition> <offset>\n" per partition.
 * - `leader-epoch-checkpoint` (partition dir): "0\n<count>\n" then "<epoch> <startOffset>\n" per epoch.
 * - `partition.metadata` (partition dir): "version: 0\ntopic_id: <uuid as unpadded url-safe base64>\n".
 * - `.kafka_cleanshutdown` (log dir root): present only between a clean close and the next open. Kafka
 *   3.x writes `{"version":0,"brokerEpoch":N}` into it; Sluice adds, per partition, what its active
 *   segment's .log looked like at the close (see `CleanShutdownState`), so the next open can tell from one
 *   stat whether the file changed while the broker was down.
 */

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';
export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
export const PARTITION_METADATA = 'partition.metadata';
export const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown';

const CHECKPOINT_VERSION = 0;

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

function parseHeader(lines: string[], what: string): number {
  const version = Number(lines[0]);
  if (version !== CHECKPOINT_VERSION) throw new Error(`${what}: unsupported version line '${lines[0]}'`);
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) throw new Error(`${what}: bad count line '${lines[1]}'`);
  if (lines.length - 2 < count) throw new Error(`${what}: ${count} entries announced, ${lines.length - 2} present`);
  return count;
}

function contentLines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

export function formatOffsetCheckpoint(entries: readonly PartitionOffset[]): Buffer {
  const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Parses an offset checkpoint; throws on a malformed file (the caller decides whether to ignore it). */
export function parseOffsetCheckpoint(text: string): PartitionOffset[] {
  const lines = contentLines(text);
  const count = parseHeader(lines, 'offset checkpoint');
  const out: PartitionOffset[] = [];
  for (let i = 0; i < count; i++) {
    const parts = lines[i + 2]!.trim().split(/\s+/);
    if (parts.length !== 3) throw new Error(`offset checkpoint: malformed line '${lines[i + 2]}'`);
    const partition = Number(parts[1]);
    if (!Number.isInteger(partition)) throw new Error(`offset checkpoint: bad partition in '${lines[i + 2]}'`);
    out.push({ topic: parts[0]!, partition, offset: BigInt(parts[2]!) });
  }
  return out;
}

export interface EpochEntry {
  epoch: number;
  startOffset: bigint;
}

export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): Buffer {
  const lines = [String(CHECKPOINT_VERSION), String(entries.length)];
  for (const e of entries) lines.push(`${e.epoch} ${e.startOffset}`);
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

export function parseLeaderEpochCheckpoint(text: string): EpochEntry[] {
  const lines = contentLines(text);
  const count = parseHeader(lines, 'leader epoch checkpoint');
  const out: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const parts = lines[i + 2]!.trim().split(/\s+/);
    const epoch = Number(parts[0]);
    if (parts.length !== 2 || !Number.isInteger(epoch)) {
      throw new Error(`leader epoch checkpoint: malformed line '${lines[i + 2]}'`);
    }
    out.push({ epoch, startOffset: BigInt(parts[1]!) });
  }
  return out;
}

const HEX_UUID = /^[0-9a-fA-F]{32}$/i;

/** Kafka prints a topic id as its 16 bytes in unpadded url-safe base64. */
export function topicIdToBase64(topicIdHex: string): string {
  const hex = topicIdHex.replaceAll('-', '');
  if (!HEX_UUID.test(hex)) throw new Error(`topic id '${topicIdHex}' is not 32 hex digits`);
  return Buffer.from(hex, 'hex').toString('base64url');
}

export function topicIdFromBase64(encoded: string): string {
  const bytes = Buffer.from(encoded, 'base64url');
  if (bytes.length !== 16) throw new Error(`topic id '${encoded}' does not decode to 16 bytes`);
  return bytes.toString('hex');
}

export function formatPartitionMetadata(topicIdHex: string): Buffer {
  return Buffer.from(`version: 0\ntopic_id: ${topicIdToBase64(topicIdHex)}\n`, 'utf8');
}

/** The topic id (32 hex digits) in a partition.metadata file. */
export function parsePartitionMetadata(text: string): string {
  const fields = new Map<string, string>();
  for (const line of contentLines(text)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  if (fields.get('version') !== '0')
    throw new Error(`partition.metadata: unsupported version '${fields.get('version')}'`);
  const topicId = fields.get('topic_id');
  if (!topicId) throw new Error('partition.metadata: no topic_id line');
  return topicIdFromBase64(topicId);
}

/** One partition as a clean close left it: its active segment, topic id and leader epochs. */
export interface PartitionAtClose {
  baseOffset: bigint;
  /** The offset after the active segment's last batch (the log end offset). */
  nextOffset: bigint;
  /** Size and modification time of the active segment's .log after the close's last write. */
  size: number;
  mtimeMs: number;
  /** Its first batch's max timestamp (segment.ms counts from it), null when none. */
  firstBatchTimestamp: bigint | null;
  /** What partition.metadata says (null: no file); undefined when not recorded. */
  topicId?: string | null;
  /** What leader-epoch-checkpoint says (empty: no file). */
  epochs: EpochEntry[];
}

/** What a clean close records in the marker, by `<topic>-<partition>`. */
export type CleanShutdownState = Map<string, PartitionAtClose>;

interface RecordedPartition {
  base: string;
  next: string;
  size: number;
  mtimeMs: number;
  firstTimestamp: string | null;
  topicId: string | null;
  epochs: Array<[number, string]>;
}

export function formatCleanShutdown(state: CleanShutdownState): Buffer {
  const partitions: Record<string, RecordedPartition> = {};
  for (const [key, s] of state) {
    partitions[key] = {
      base: String(s.baseOffset),
      next: String(s.nextOffset),
      size: s.size,
      mtimeMs: s.mtimeMs,
      firstTimestamp: s.firstBatchTimestamp === null ? null : String(s.firstBatchTimestamp),
      topicId: s.topicId ?? null,
      epochs: s.epochs.map((e) => [e.epoch, String(e.startOffset)]),
    };
  }
  return Buffer.from(`${JSON.stringify({ version: 0, brokerEpoch: -1, partitions })}\n`, 'utf8');
}

const DIGITS = /^-?\d+$/;

function parseRecorded(value: unknown): PartitionAtClose | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Partial<RecordedPartition>;
  const offset = (v: unknown) => typeof v === 'string' && DIGITS.test(v);
  if (!offset(r.base) || !offset(r.next) || typeof r.size !== 'number' || typeof r.mtimeMs !== 'number') return null;
  if (r.firstTimestamp !== null && !offset(r.firstTimestamp)) return null;
  if (r.topicId !== null && !(typeof r.topicId === 'string' && /^[0-9a-fA-F]{32}$/.test(r.topicId))) return null;
  if (!Array.isArray(r.epochs)) return null;
  const epochs: EpochEntry[] = [];
  for (const e of r.epochs as unknown[]) {
    if (!Array.isArray(e) || !Number.isInteger(e[0]) || !offset(e[1])) return null;
    epochs.push({ epoch: e[0] as number, startOffset: BigInt(e[1] as string) });
  }
  return {
    baseOffset: BigInt(r.base!),
    nextOffset: BigInt(r.next!),
    size: r.size,
    mtimeMs: r.mtimeMs,
    firstBatchTimestamp: r.firstTimestamp === null ? null : BigInt(r.firstTimestamp!),
    topicId: r.topicId,
    epochs,
  };
}

/**
 * Parses the marker's content. An empty marker (Kafka before 3.x, a close cut short after creating it)
 * or one that does not parse gives an empty state: every partition is then checked as before. An entry
 * that does not parse is left out, so that partition is checked.
 */
export function parseCleanShutdown(text: string): CleanShutdownState {
  const state: CleanShutdownState = new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return state;
  }
  const partitions = (parsed as { partitions?: unknown } | null)?.partitions;
  if (typeof partitions !== 'object' || partitions === null) return state;
  for (const [key, value] of Object.entries(partitions)) {
    const entry = parseRecorded(value);
    if (entry) state.set(key, entry);
  }
  return state;
}

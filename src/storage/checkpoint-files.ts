/**
 * Kafka's small text files, same names and formats, so Kafka's tools and habits apply:
 *
 * - `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint` (log dir root):
 *   "0\n<count>\n" then "<topic> <partition> <offset>\n" per partition.
 * - `leader-epoch-checkpoint` (partition dir): "0\n<count>\n" then "<epoch> <startOffset>\n" per epoch.
 * - `partition.metadata` (partition dir): "version: 0\ntopic_id: <uuid as unpadded url-safe base64>\n".
 * - `.kafka_cleanshutdown` (log dir root): present only between a clean close and the next open.
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

const HEX_UUID = /^[0-9a-f]{32}$/i;

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

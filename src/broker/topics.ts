/**
 * The topic registry: which topics exist, their ids, partition counts and topic-level config overrides.
 *
 * A single broker keeps this in `<log.dir>/sluice-topics.json`, rewritten atomically (write to a temporary
 * file, fsync, rename) on every change, so topics and their ids survive restarts. Partition data itself lives
 * in the storage layer; this registry is the source of truth for what the broker reports in Metadata.
 */
import { randomBytes } from 'node:crypto';
import { JsonStateFile } from './json-state-file.js';

export interface TopicInfo {
  name: string;
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level overrides with Kafka's names (retention.ms, cleanup.policy, …), as strings. */
  configs: Record<string, string>;
  internal: boolean;
}

export const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Returns why `name` is not a legal topic name, or null when it is (Kafka's rules; names become directory names). */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be "${name}"`;
  if (name.length > MAX_TOPIC_NAME_LENGTH)
    return `topic name is ${name.length} characters long; the limit is ${MAX_TOPIC_NAME_LENGTH}`;
  if (!LEGAL_TOPIC_NAME.test(name))
    return `topic name "${name}" contains characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/** Kafka refuses topics whose names differ only by '.' versus '_' because their metric names collide. */
export function collisionKey(name: string): string {
  return name.replaceAll('.', '_');
}

export const ZERO_UUID = '0'.repeat(32);

/** A random topic id; like Kafka, never the zero uuid and never one whose base64 form starts with '-'. */
export function newTopicId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const hex = bytes.toString('hex');
    if (hex !== ZERO_UUID && !bytes.toString('base64url').startsWith('-')) return hex;
  }
}

interface RegistryFile {
  version: 1;
  topics: TopicInfo[];
}

export class TopicRegistry {
  private readonly byName = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private readonly byCollisionKey = new Map<string, string>();
  private readonly file: JsonStateFile<RegistryFile>;

  /** @param dir where the registry file lives; null keeps topics in memory only. */
  constructor(dir: string | null) {
    this.file = new JsonStateFile(dir, 'sluice-topics.json');
  }

  async load(): Promise<void> {
    const parsed = await this.file.read();
    for (const t of parsed?.topics ?? []) this.index(t);
  }

  private index(t: TopicInfo): void {
    this.byName.set(t.name, t);
    this.byId.set(t.topicId, t);
    this.byCollisionKey.set(collisionKey(t.name), t.name);
  }

  get(name: string): TopicInfo | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicInfo[] {
    return [...this.byName.values()];
  }

  /** The existing topic whose name collides with `name` ('.' vs '_'), if any. */
  collidesWith(name: string): string | undefined {
    const other = this.byCollisionKey.get(collisionKey(name));
    return other !== undefined && other !== name ? other : undefined;
  }

  async add(topic: Omit<TopicInfo, 'topicId'> & { topicId?: string }): Promise<TopicInfo> {
    const info: TopicInfo = { ...topic, topicId: topic.topicId ?? newTopicId() };
    this.index(info);
    await this.save();
    return info;
  }

  async update(name: string, change: Partial<Pick<TopicInfo, 'partitions' | 'configs'>>): Promise<TopicInfo> {
    const t = this.byName.get(name);
    if (!t) throw new Error(`unknown topic ${name}`);
    Object.assign(t, change);
    await this.save();
    return t;
  }

  async remove(name: string): Promise<TopicInfo | undefined> {
    const t = this.byName.get(name);
    if (!t) return undefined;
    this.byName.delete(name);
    this.byId.delete(t.topicId);
    this.byCollisionKey.delete(collisionKey(name));
    await this.save();
    return t;
  }

  /** Serialized atomic rewrites: each save waits for the previous one, then writes the current state. */
  private save(): Promise<void> {
    return this.file.write(() => ({ version: 1, topics: this.list() }));
  }
}

/**
 * Choosing a partition for a record, the way Kafka's Java producer does, so that a key lands on the same
 * partition whichever client wrote it:
 * - a keyed record goes to `toPositive(murmur2(key)) % partitions` (Java's `Utils.murmur2`, the
 *   partitioner librdkafka calls `murmur2_random` and kafkajs `DefaultPartitioner`);
 * - records without a key stick to one partition until a batch for it is sent, then move to another
 *   (KIP-480's sticky partitioner), or go round robin when asked.
 */

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995;

/** Kafka's murmur2 (MurmurHash2, 32-bit, seed 0x9747b28c) of `data`, as a signed 32-bit integer. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  // The last one to three bytes, as murmur2's fall-through switch mixes them.
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2] << 16;
  if (tail >= 2) h ^= data[whole + 1] << 8;
  if (tail >= 1) {
    h ^= data[whole];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed record: Java's `Utils.toPositive(Utils.murmur2(key)) % numPartitions`. */
export function partitionForKey(key: Uint8Array | string, numPartitions: number): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return (murmur2(bytes) & 0x7fffffff) % numPartitions;
}

/** Where records without a key go. */
export interface NullKeyPartitioner {
  partition(topic: string, numPartitions: number): number;
  /** A batch for `partition` of `topic` was closed: a sticky partitioner moves on. */
  batchClosed(topic: string, partition: number, numPartitions: number): void;
}

/** KIP-480: stay on one random partition per topic until its batch is sent, then pick another one. */
export class StickyPartitioner implements NullKeyPartitioner {
  private readonly current = new Map<string, number>();

  constructor(private readonly random: () => number = Math.random) {}

  partition(topic: string, numPartitions: number): number {
    let p = this.current.get(topic);
    if (p === undefined || p >= numPartitions) {
      p = Math.floor(this.random() * numPartitions);
      this.current.set(topic, p);
    }
    return p;
  }

  batchClosed(topic: string, partition: number, numPartitions: number): void {
    if (this.current.get(topic) !== partition) return;
    let next = Math.floor(this.random() * numPartitions);
    if (numPartitions > 1 && next === partition) next = (next + 1) % numPartitions;
    this.current.set(topic, next);
  }
}

/** Each record to the next partition in turn. */
export class RoundRobinPartitioner implements NullKeyPartitioner {
  private readonly next = new Map<string, number>();

  partition(topic: string, numPartitions: number): number {
    const p = (this.next.get(topic) ?? 0) % numPartitions;
    this.next.set(topic, p + 1);
    return p;
  }

  batchClosed(): void {}
}

/**
 * `__consumer_offsets` as the group coordinator sees it: a CoordinatorLog over this broker's partition logs.
 * Like Kafka, the topic is created on first use, compacted, with `offsets.topic.num.partitions` partitions.
 */
import type { CoordinatorLog } from '../coordinator/runtime/coordinator-log.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { isLogError } from '../storage/index.js';
import type { BrokerServices } from './handler-context.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
const EMPTY = Buffer.alloc(0);

export class OffsetsTopicLog implements CoordinatorLog {
  readonly partitionCount: number;
  private creating: Promise<void> | null = null;

  constructor(private readonly broker: BrokerServices) {
    // An existing topic keeps its partition count: groups hash onto the partitions they were written to.
    this.partitionCount =
      broker.topics.get(OFFSETS_TOPIC)?.partitions ?? (broker.config['offsets.topic.num.partitions'] as number);
  }

  private ensureTopic(): Promise<void> {
    // The creation first: the registry lists the topic before its partition logs are open.
    if (this.creating) return this.creating;
    if (this.broker.topics.get(OFFSETS_TOPIC)) return Promise.resolve();
    this.creating ??= this.broker
      .createTopic({
        name: OFFSETS_TOPIC,
        partitions: this.partitionCount,
        replicationFactor: -1,
        // offsets.topic.segment.bytes: smaller segments than other topics' let compaction reclaim space sooner.
        configs: {
          'cleanup.policy': 'compact',
          'segment.bytes': String(this.broker.config['offsets.topic.segment.bytes']),
        },
      })
      .then((outcome) => {
        this.creating = null;
        if (outcome.errorCode !== ErrorCode.NONE && outcome.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) {
          throw new Error(`cannot create ${OFFSETS_TOPIC}: ${outcome.errorMessage}`);
        }
      });
    return this.creating;
  }

  async append(partition: number, batch: Buffer): Promise<{ baseOffset: bigint }> {
    await this.ensureTopic();
    const log = this.broker.partition(OFFSETS_TOPIC, partition);
    if (!log) throw new Error(`${OFFSETS_TOPIC}-${partition} does not exist`);
    const result = await log.append(batch, { acks: -1, origin: 'internal' });
    if (isLogError(result)) throw new Error(`${OFFSETS_TOPIC}-${partition}: ${result.errorCode}: ${result.message}`);
    return { baseOffset: result.baseOffset };
  }

  async read(partition: number, offset: bigint, maxBytes: number): Promise<{ records: Buffer; highWatermark: bigint }> {
    const log = this.broker.partition(OFFSETS_TOPIC, partition);
    if (!log) return { records: EMPTY, highWatermark: 0n };
    const result = await log.read(offset < log.logStartOffset ? log.logStartOffset : offset, maxBytes);
    if (isLogError(result)) throw new Error(`${OFFSETS_TOPIC}-${partition}: ${result.errorCode}: ${result.message}`);
    return { records: result.records, highWatermark: result.highWatermark };
  }
}

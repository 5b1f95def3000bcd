/**
 * Idempotent producers in the crash cycles. Each `IdempotentWriter` is one long-lived producer: it gets a
 * producer id from InitProducerId (no transactional id), numbers its batches per partition from 0, keeps
 * up to `inFlight` produce requests unanswered (at most 5, the batches a broker remembers per producer)
 * and, when the broker dies, keeps them: at the next start it resends each of them first, the same bytes
 * with the same producer id, epoch and sequences, as Kafka's producer does after a lost connection.
 *
 * The `ProducerLedger` checks what the broker did with them:
 * - every record of a producer in a partition carries its producer id, epoch and sequence in its batch
 *   header, and a producer's sequences in a partition's log go 0, 1, 2, ... with no gap and no repeat
 *   (checked on every record the log gained since the previous check, so over the whole log);
 * - a retried batch that the log already held after the restart is answered with the offset it holds
 *   there (a deduplicated retry), and one the log did not hold is appended at the end;
 * - a batch is never answered with an offset where the log holds other records;
 * - every producer id InitProducerId gives is new, and above every id given before the last restart.
 *
 * A record's value names it: `<cycle>:<writer>:<partition>:<seq>:<producerId>:<sequence>:` (cycle of its
 * first send, writer-wide send counter, then producer id and sequence in the partition).
 */
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildRecordBatch } from '../../src/records/index.js';
import { ConnectionLost, type LogRecord, WireClient } from './wire-client.js';

/** Writers with this number or more are idempotent producers; below are plain writers and the marker writer. */
export const FIRST_IDEMPOTENT_WRITER = 10;
/** Kafka's brokers remember a producer's last five batches per partition, so a retry can go no further back. */
const MAX_IN_FLIGHT = 5;

export class ProducerCheckFailure extends Error {
  override name = 'ProducerCheckFailure';
}

export interface ProducerReport {
  /** InitProducerId answers checked (new, and above the ids of earlier broker runs). */
  producerIds: number;
  /** Batches sent again after a restart and then acknowledged. */
  retriedBatches: number;
  /** Retried batches the log already held after the restart, answered with their original offset. */
  deduplicatedRetries: number;
  /** Retried batches the log did not hold, appended at the recovered log end. */
  appendedRetries: number;
  /** Records of idempotent producers checked for sequence order in the log (each once). */
  sequencedRecords: number;
}

interface PendingBatch {
  partition: number;
  values: string[];
  batch: Buffer;
}

interface PendingRequest {
  batches: PendingBatch[];
  sends: number;
}

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

function parseIdempotentValue(v: string): { writer: number; producerId: bigint; sequence: number } {
  const f = v.split(':');
  return { writer: Number(f[1]), producerId: BigInt(f[4] ?? '-1'), sequence: Number(f[5]) };
}

export class ProducerLedger {
  readonly report: ProducerReport = {
    producerIds: 0,
    retriedBatches: 0,
    deduplicatedRetries: 0,
    appendedRetries: 0,
    sequencedRecords: 0,
  };
  /** Found duplicated in the log or in an answer; stays 0 unless a check fails. */
  duplicated = 0;
  /** Every id InitProducerId gave, and the highest given before the current broker run. */
  private readonly producerIds = new Set<bigint>();
  private highestBeforeRestart = -1n;
  /** Values of batches sent and not yet acknowledged, across restarts. */
  private readonly pending = new Set<string>();
  /** Pending values the log was found to hold after a restart: their offset. */
  private readonly keptAt = new Map<string, number>();
  /** `<producerId>:<partition>`: the last sequence in the checked log. */
  private readonly lastSequence = new Map<string, number>();
  /** Per partition: the log end offset found by the last check (everything below was checked). */
  readonly checkedEnd: number[];

  constructor(
    partitions: number,
    /** The verified log: value by offset per partition (shared with crash-cycles.ts). */
    private readonly model: Array<Array<string | undefined>>,
  ) {
    this.checkedEnd = Array.from({ length: partitions }, () => 0);
  }

  /** A broker (re)started: ids it gives must be above every id given so far. */
  restarted(): void {
    for (const id of this.producerIds) if (id > this.highestBeforeRestart) this.highestBeforeRestart = id;
  }

  producerIdGiven(
    answer: { errorCode: ErrorCode; producerId: bigint; producerEpoch: number },
    where: string,
  ): { producerId: bigint; producerEpoch: number } {
    const { errorCode, producerId, producerEpoch } = answer;
    if (errorCode !== ErrorCode.NONE) {
      throw new ProducerCheckFailure(`${where}: InitProducerId answered ${ErrorCode[errorCode]}`);
    }
    if (producerId < 0n || producerEpoch !== 0) {
      throw new ProducerCheckFailure(`${where}: InitProducerId gave producer id ${producerId}, epoch ${producerEpoch}`);
    }
    if (this.producerIds.has(producerId)) {
      throw new ProducerCheckFailure(`${where}: InitProducerId gave producer id ${producerId} a second time`);
    }
    if (producerId <= this.highestBeforeRestart) {
      throw new ProducerCheckFailure(
        `${where}: InitProducerId gave producer id ${producerId} after a restart; ids up to ${this.highestBeforeRestart} were given before`,
      );
    }
    this.producerIds.add(producerId);
    this.report.producerIds++;
    return { producerId, producerEpoch };
  }

  sent(values: string[]): void {
    for (const v of values) this.pending.add(v);
  }

  /**
   * The log check found `value` at `offset` where no acknowledgement put anything: true if it is one of
   * the unacknowledged idempotent sends (which its retry must then find there).
   */
  keep(value: string, offset: number): boolean {
    if (!this.pending.has(value)) return false;
    this.keptAt.set(value, offset);
    return true;
  }

  /**
   * A record at or after the previous check's log end, in offset order: records of idempotent producers
   * carry their producer fields and continue their producer's sequence in the partition by exactly one.
   */
  checkNewRecord(partition: number, record: LogRecord, value: string, writer: number, where: string): void {
    if (writer < FIRST_IDEMPOTENT_WRITER) {
      if (record.producerId !== -1n || record.sequence !== -1) {
        throw new ProducerCheckFailure(
          `${where}: plain record ${value} at ${record.offset} has producer id ${record.producerId}, sequence ${record.sequence}`,
        );
      }
      return;
    }
    const sent = parseIdempotentValue(value);
    if (record.producerId !== sent.producerId || record.producerEpoch !== 0 || record.sequence !== sent.sequence) {
      throw new ProducerCheckFailure(
        `${where}: ${value} at ${record.offset} has producer id ${record.producerId}, epoch ${record.producerEpoch}, sequence ${record.sequence}`,
      );
    }
    const key = `${sent.producerId}:${partition}`;
    const last = this.lastSequence.get(key) ?? -1;
    if (sent.sequence !== last + 1) {
      if (sent.sequence <= last) this.duplicated++;
      throw new ProducerCheckFailure(
        `${where}: ${value} at ${record.offset} has sequence ${sent.sequence} after sequence ${last} of producer ${sent.producerId} (${sent.sequence <= last ? 'a duplicate' : 'a gap'})`,
      );
    }
    this.lastSequence.set(key, sent.sequence);
    this.report.sequencedRecords++;
  }

  checked(partition: number, logEnd: number): void {
    this.checkedEnd[partition] = logEnd;
  }

  /** A batch was acknowledged at `baseOffset`; puts it into the model. Returns the records acknowledged. */
  acknowledged(b: PendingBatch, baseOffset: bigint, retried: boolean, where: string): number {
    const known = this.model[b.partition]!;
    const offset = Number(baseOffset);
    const first = b.values[0]!;
    const at = `${where}, partition ${b.partition}`;
    const kept = this.keptAt.get(first);
    if (kept !== undefined) {
      if (kept !== offset) {
        this.duplicated++;
        throw new ProducerCheckFailure(
          `${at}: the log held batch ${first} at ${kept} after the restart, but its retry was answered with offset ${offset}`,
        );
      }
      this.report.deduplicatedRetries++;
    } else if (retried) {
      if (offset < this.checkedEnd[b.partition]!) {
        throw new ProducerCheckFailure(
          `${at}: retried batch ${first} was not in the log, but its retry was answered with offset ${offset}, below the recovered log end ${this.checkedEnd[b.partition]}`,
        );
      }
      this.report.appendedRetries++;
    }
    if (retried) this.report.retriedBatches++;
    b.values.forEach((v, i) => {
      const held = known[offset + i];
      if (held !== undefined && held !== v) {
        throw new ProducerCheckFailure(`${at}: ${v} was acknowledged at offset ${offset + i}, which holds ${held}`);
      }
      if (kept !== undefined && held !== v) {
        throw new ProducerCheckFailure(`${at}: the log held only part of batch ${first} (not ${v}) after the restart`);
      }
      known[offset + i] = v;
      this.pending.delete(v);
      this.keptAt.delete(v);
    });
    return b.values.length;
  }
}

export interface IdempotentWriterOptions {
  writer: number;
  topic: string;
  partitions: number;
  inFlight: number;
  ledger: ProducerLedger;
  /** Chance that a writer with nothing to retry takes a new producer id at the start of a cycle. */
  newProducerIdChance?: number;
  /** Called with the number of records each acknowledged batch holds. */
  onAcknowledged: (records: number) => void;
}

export class IdempotentWriter {
  private producerId = -1n;
  private producerEpoch = -1;
  private readonly nextSequence: number[];
  private sendCounter = 0;
  /** Sent and not answered, in send order; survives a lost connection and is sent again first. */
  private readonly unanswered: PendingRequest[] = [];

  constructor(private readonly opts: IdempotentWriterOptions) {
    if (opts.inFlight > MAX_IN_FLIGHT) throw new Error(`an idempotent writer keeps at most ${MAX_IN_FLIGHT} in flight`);
    this.nextSequence = Array.from({ length: opts.partitions }, () => 0);
  }

  get unansweredRequests(): number {
    return this.unanswered.length;
  }

  /**
   * Connects, resends what is unanswered, then produces until the connection dies. Resolves with a check
   * failure, or null (a lost connection is the expected end).
   */
  async run(port: number, cycle: number): Promise<Error | null> {
    return this.session(port, cycle, true);
  }

  /** Resends what is unanswered and sends nothing new; every request must be answered. */
  async drain(port: number, where: string): Promise<Error | null> {
    if (this.unanswered.length === 0) return null;
    const failure = await this.session(port, -1, false);
    if (failure) return failure;
    if (this.unanswered.length > 0) {
      return new ProducerCheckFailure(`${where}: the connection of writer ${this.opts.writer} died while draining`);
    }
    return null;
  }

  private async session(port: number, cycle: number, produceNew: boolean): Promise<Error | null> {
    let client: WireClient;
    try {
      client = await WireClient.connect(port);
    } catch {
      return produceNew ? null : new ProducerCheckFailure(`writer ${this.opts.writer} could not connect`);
    }
    const where = produceNew ? `cycle ${cycle}, writer ${this.opts.writer}` : `writer ${this.opts.writer} draining`;
    try {
      // Each lane holds at most one request unanswered, so there are at most inFlight to resend. The lanes
      // start in order and each writes its first request before yielding: retries go out first, in order.
      let retries = this.unanswered.slice();
      const chance = this.opts.newProducerIdChance ?? 0.2;
      if (produceNew && (this.producerId < 0n || Math.random() < chance)) {
        // A producer takes a new id only once its batches are answered, or they would never be.
        await Promise.all(retries.map((r) => this.send(client, r, where)));
        retries = [];
        const given = this.opts.ledger.producerIdGiven(await client.initProducerId(), where);
        this.producerId = given.producerId;
        this.producerEpoch = given.producerEpoch;
        this.nextSequence.fill(0);
      }
      const lanes = Array.from({ length: this.opts.inFlight }, async (_, i) => {
        if (i < retries.length) await this.send(client, retries[i]!, where);
        if (produceNew) for (;;) await this.send(client, this.newRequest(cycle), where);
      });
      await Promise.all(lanes);
    } catch (err) {
      if (!(err instanceof ConnectionLost)) return err as Error;
      if (!produceNew) return new ProducerCheckFailure(`${where}: ${(err as Error).message}`);
    } finally {
      client.close();
    }
    return null;
  }

  private newRequest(cycle: number): PendingRequest {
    const { partitions, writer } = this.opts;
    const chosen = Array.from({ length: partitions }, (_, p) => p).filter(() => Math.random() >= 0.25);
    if (chosen.length === 0) chosen.push(randomInt(0, partitions - 1));
    const batches = chosen.map((partition) => {
      const baseSequence = this.nextSequence[partition]!;
      const n = randomInt(1, 12);
      const values: string[] = [];
      for (let i = 0; i < n; i++) {
        const name = `${cycle}:${writer}:${partition}:${this.sendCounter++}:${this.producerId}:${baseSequence + i}:`;
        values.push(name.padEnd(64, 'x'));
      }
      this.nextSequence[partition] = baseSequence + n;
      const batch = buildRecordBatch(
        values.map((value) => ({ key: `w${writer}-p${partition}`, value })),
        { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence },
      );
      return { partition, values, batch };
    });
    const request = { batches, sends: 0 };
    for (const b of batches) this.opts.ledger.sent(b.values);
    this.unanswered.push(request);
    return request;
  }

  /** Writes the request at once (before any await), then checks and records its answer. */
  private async send(client: WireClient, request: PendingRequest, where: string): Promise<void> {
    request.sends++;
    const answers = await client.produce(
      this.opts.topic,
      request.batches.map((b) => ({ partition: b.partition, batch: b.batch })),
    );
    const index = this.unanswered.indexOf(request);
    if (index !== 0) {
      throw new ProducerCheckFailure(`${where}: a produce was answered before one sent earlier on the connection`);
    }
    this.unanswered.shift();
    for (const a of answers) {
      const b = request.batches.find((x) => x.partition === a.partition);
      if (!b) throw new ProducerCheckFailure(`${where}: an answer for partition ${a.partition}, which was not sent`);
      if (a.errorCode !== ErrorCode.NONE) {
        throw new ProducerCheckFailure(
          `${where}: batch ${b.values[0]} (send ${request.sends}) answered ${ErrorCode[a.errorCode]}`,
        );
      }
      this.opts.onAcknowledged(this.opts.ledger.acknowledged(b, a.baseOffset, request.sends > 1, where));
    }
    if (answers.length !== request.batches.length) {
      throw new ProducerCheckFailure(`${where}: ${answers.length} answers for ${request.batches.length} batches`);
    }
  }
}

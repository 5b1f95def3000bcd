/**
 * Shared by the produce-fetch interop tests: the records each client sends, reading a partition back
 * with kcat or our own Fetch, and the checks that what came back is what was sent.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { CompressionType, iterateBatches } from '../../src/records/index.js';
import { WireClient, wholeBatches } from '../crash/wire-client.js';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';

export interface SuiteBroker {
  broker: BrokerProcess;
  /** Set only when asked for (`wireClient: true`). */
  client: WireClient;
}

/**
 * Registers the hooks of a suite that runs against one broker process: `before` starts it (and connects a
 * WireClient to it when asked), `after` closes the client and stops and removes the broker. The fields of
 * the returned object are set once `before` has run. Hooks run in the order registered, so a suite's own
 * `after` registered before this call runs while the broker is still up.
 */
export function suiteBroker(opts: { wireClient?: boolean } = {}): SuiteBroker {
  const suite = {} as SuiteBroker;
  before(async () => {
    suite.broker = await startBrokerProcess();
    if (opts.wireClient) suite.client = await WireClient.connect(suite.broker.port);
  });
  after(async () => {
    suite.client?.close();
    await stopAndRemove(suite.broker);
  });
  return suite;
}

export const RECORDS = 10_000;
export const KEYS = 200;
export const PARTITIONS = 3;
/** Explicit create times: far enough in the past to be unmistakable, recent enough for retention. */
export const BASE_TIMESTAMP = Date.now() - 3_600_000;

export interface SentRecord {
  key: string;
  value: string;
  headers: Array<[string, string]>;
  /** The create time the producer set, if it set one. */
  timestamp?: number;
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string]>;
  timestamp: number;
}

export interface Delivery {
  partition: number;
  offset: number;
}

/**
 * The i-th record of a run: keys repeat (KEYS of them) so per-key order can be checked; the value says
 * which key and which occurrence it is, and is long enough for compression to matter.
 */
export function sentRecord(
  client: string,
  i: number,
  opts: { timestamps?: boolean; headers?: boolean } = {},
): SentRecord {
  const key = `key-${i % KEYS}`;
  const value = `${client}|${key}|${i}|${'lorem ipsum dolor sit amet '.repeat(3)}`;
  const headers: Array<[string, string]> =
    opts.headers === false
      ? []
      : [
          ['client', client],
          ['seq', String(i)],
        ];
  return { key, value, headers, ...(opts.timestamps ? { timestamp: BASE_TIMESTAMP + i } : {}) };
}

/** The sequence number a value carries (see sentRecord). */
function seqOf(value: string): number {
  return Number(value.split('|')[2]);
}

interface KcatJson {
  topic: string;
  partition: number;
  offset: number;
  tstype: string;
  ts: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

/** Reads one partition from its first offset to its end with kcat (explicit partition: no group). */
export async function kcatReadPartition(
  bootstrap: string,
  topic: string,
  partition: number,
): Promise<ConsumedRecord[]> {
  const r = await kcat(bootstrap, ['-C', '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-J', '-q'], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, `kcat -C ${topic}-${partition} exited with ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const m = JSON.parse(l) as KcatJson;
      assert.equal(m.tstype, 'create', `timestamp type of ${topic}-${partition}@${m.offset}`);
      const headers: Array<[string, string]> = [];
      for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2) headers.push([m.headers![i]!, m.headers![i + 1]!]);
      return { partition: m.partition, offset: m.offset, key: m.key, value: m.payload, headers, timestamp: m.ts };
    });
}

export async function kcatReadAll(
  bootstrap: string,
  topic: string,
  partitions = PARTITIONS,
): Promise<ConsumedRecord[]> {
  const parts = await Promise.all(Array.from({ length: partitions }, (_, p) => kcatReadPartition(bootstrap, topic, p)));
  return parts.flat();
}

/** Reads every partition with our own Fetch, decoding the stored batches with src/records. */
export async function wireReadAll(port: number, topic: string, partitions = PARTITIONS): Promise<ConsumedRecord[]> {
  const client = await WireClient.connect(port);
  try {
    const out: ConsumedRecord[] = [];
    for (let p = 0; p < partitions; p++) {
      for (const r of await client.readAll(topic, p)) {
        out.push({
          partition: p,
          offset: Number(r.offset),
          key: r.key?.toString('utf8') ?? null,
          value: r.value?.toString('utf8') ?? null,
          headers: r.headers.map((h) => [h.key, h.value?.toString('utf8') ?? '']),
          timestamp: Number(r.timestamp),
        });
      }
    }
    return out;
  } finally {
    client.close();
  }
}

/** The compression codecs of the batches stored in a topic, as the broker returns them. */
export async function storedCodecs(port: number, topic: string, partitions = PARTITIONS): Promise<Set<string>> {
  const client = await WireClient.connect(port);
  const codecs = new Set<string>();
  try {
    for (let p = 0; p < partitions; p++) {
      let offset = 0n;
      for (;;) {
        const f = await client.fetch(topic, p, offset);
        if (offset >= f.highWatermark || f.records.length === 0) break;
        let last = offset;
        for (const b of iterateBatches(wholeBatches(f.records))) {
          codecs.add(CompressionType[b.compression]!.toLowerCase());
          last = b.baseOffset + BigInt(b.lastOffsetDelta) + 1n;
        }
        if (last <= offset) break;
        offset = last;
      }
    }
  } finally {
    client.close();
  }
  return codecs;
}

/**
 * Every sent record came back exactly once with its key, value, headers (and create time, when the
 * producer set one); offsets of each partition run 0..n-1; a key lives in one partition and its records
 * keep the order they were sent in; where the producer reported partition and offset, they match.
 */
export function assertRoundTrip(
  sent: SentRecord[],
  consumed: ConsumedRecord[],
  opts: { deliveries?: Delivery[]; timestampRange?: [number, number]; partitions?: number } = {},
): void {
  const partitions = opts.partitions ?? PARTITIONS;
  assert.equal(consumed.length, sent.length, `consumed ${consumed.length} records, sent ${sent.length}`);
  if (opts.deliveries) assert.equal(opts.deliveries.length, sent.length, 'a delivery report for every record');
  const byValue = new Map<string, ConsumedRecord>();
  for (const c of consumed) {
    assert.ok(c.value !== null, `null value at ${c.partition}@${c.offset}`);
    assert.ok(!byValue.has(c.value), `${c.value} consumed twice`);
    byValue.set(c.value, c);
  }
  // Offsets: contiguous from 0 in every partition.
  for (let p = 0; p < partitions; p++) {
    const offsets = consumed
      .filter((c) => c.partition === p)
      .map((c) => c.offset)
      .sort((a, b) => a - b);
    offsets.forEach((o, i) => {
      assert.equal(o, i, `partition ${p}: offset ${o} at position ${i}`);
    });
  }
  const partitionOfKey = new Map<string, number>();
  const lastOffsetOfKey = new Map<string, { offset: number; seq: number }>();
  const inSendOrder = sent.map((s) => byValue.get(s.value));
  sent.forEach((s, i) => {
    const c = inSendOrder[i];
    assert.ok(c, `record ${i} (${s.value.slice(0, 30)}…) was not consumed`);
    assert.equal(c.key, s.key, `key of record ${i}`);
    assert.deepEqual(c.headers, s.headers, `headers of record ${i}`);
    if (s.timestamp !== undefined) assert.equal(c.timestamp, s.timestamp, `timestamp of record ${i}`);
    else if (opts.timestampRange) {
      const [from, to] = opts.timestampRange;
      assert.ok(
        c.timestamp >= from && c.timestamp <= to,
        `timestamp ${c.timestamp} of record ${i} in [${from}, ${to}]`,
      );
    }
    const keyPartition = partitionOfKey.get(s.key);
    if (keyPartition === undefined) partitionOfKey.set(s.key, c.partition);
    else assert.equal(c.partition, keyPartition, `${s.key} went to partitions ${keyPartition} and ${c.partition}`);
    const previous = lastOffsetOfKey.get(s.key);
    if (previous) {
      assert.ok(
        c.offset > previous.offset,
        `${s.key}: record ${seqOf(s.value)} at offset ${c.offset} is not after record ${previous.seq} at ${previous.offset}`,
      );
    }
    lastOffsetOfKey.set(s.key, { offset: c.offset, seq: seqOf(s.value) });
    const d = opts.deliveries?.[i];
    if (d) {
      assert.deepEqual(
        [c.partition, c.offset],
        [d.partition, d.offset],
        `record ${i} was reported delivered at ${d.partition}@${d.offset}`,
      );
    }
  });
  if (partitions > 1) {
    assert.ok(new Set(partitionOfKey.values()).size > 1, 'keys were spread over several partitions');
  }
}

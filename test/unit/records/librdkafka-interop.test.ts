/**
 * Compression framing against a real client: librdkafka, through the `kcat` command, talks to a tiny
 * in-process stand-in broker that only captures Produce records and serves one batch to Fetch. This
 * checks both directions for every codec (librdkafka sends raw snappy; we send xerial-framed snappy).
 * Skipped where kcat is not installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CompressionType } from '../../../src/records/batch-header.js';
import { buildRecordBatchAsync } from '../../../src/records/builder.js';
import { iterateRecordsAsync } from '../../../src/records/iterate.js';
import { validateRecordBatches } from '../../../src/records/validate.js';

const kcatPresent = spawnSync('kcat', ['-V']).status === 0;

const API_PRODUCE = 0;
const API_FETCH = 1;
const API_METADATA = 3;
const API_FIND_COORDINATOR = 10;
const API_VERSIONS = 18;
const UNSUPPORTED_VERSION = 35;
const TOPIC = 't';

function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
}
function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}
function int64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}
function string(s: string): Buffer {
  return Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
}

/**
 * Just enough of the protocol for librdkafka to produce and fetch one partition: ApiVersions answered in
 * v0 form, Metadata v0, Produce v7 and Fetch v10 (the versions librdkafka needs to enable zstd).
 */
class StandInBroker {
  readonly produced: Buffer[] = [];
  toServe: Buffer = Buffer.alloc(0);
  private served = false;
  private readonly server = net.createServer((socket) => this.accept(socket));
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }

  serve(batch: Buffer): void {
    this.toServe = batch;
    this.served = false;
  }

  private accept(socket: net.Socket): void {
    let pending = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const request = pending.subarray(4, 4 + pending.readInt32BE(0));
        pending = pending.subarray(4 + request.length);
        this.answer(socket, request);
      }
    });
  }

  private answer(socket: net.Socket, request: Buffer): void {
    const apiKey = request.readInt16BE(0);
    const apiVersion = request.readInt16BE(2);
    const correlationId = request.readInt32BE(4);
    const bodyStart = 10 + Math.max(request.readInt16BE(8), 0); // after the client id
    const send = (body: Buffer, delayMs = 0) => {
      const response = Buffer.concat([int32(correlationId), body]);
      setTimeout(() => socket.write(Buffer.concat([int32(response.length), response])), delayMs);
    };
    switch (apiKey) {
      case API_VERSIONS: {
        const apis = [
          [API_VERSIONS, 0, 0],
          [API_METADATA, 0, 0],
          [API_PRODUCE, 0, 7],
          [API_FETCH, 0, 10],
          [API_FIND_COORDINATOR, 0, 0],
        ];
        const entries = apis.map(([key, min, max]) => Buffer.concat([int16(key!), int16(min!), int16(max!)]));
        send(Buffer.concat([int16(apiVersion === 0 ? 0 : UNSUPPORTED_VERSION), int32(apis.length), ...entries]));
        return;
      }
      case API_METADATA: {
        const broker = Buffer.concat([int32(1), string('127.0.0.1'), int32(this.port)]);
        const partition = Buffer.concat([int16(0), int32(0), int32(1), int32(1), int32(1), int32(1), int32(1)]);
        send(Buffer.concat([int32(1), broker, int32(1), int16(0), string(TOPIC), int32(1), partition]));
        return;
      }
      case API_PRODUCE: {
        let pos = bodyStart;
        pos += 2 + Math.max(request.readInt16BE(pos), 0) + 2 + 4; // transactional id, acks, timeout
        pos += 4; // topic count (1)
        pos += 2 + request.readInt16BE(pos) + 4 + 4; // topic name, partition count (1), partition index
        const length = request.readInt32BE(pos);
        this.produced.push(Buffer.from(request.subarray(pos + 4, pos + 4 + length)));
        const partition = Buffer.concat([int32(0), int16(0), int64(0n), int64(-1n), int64(0n)]);
        send(Buffer.concat([int32(1), string(TOPIC), int32(1), partition, int32(0)]));
        return;
      }
      case API_FETCH: {
        const records = this.served ? Buffer.alloc(0) : this.toServe;
        this.served = true;
        const partition = Buffer.concat([
          int32(0), // partition
          int16(0), // error
          int64(1_000_000n), // high watermark
          int64(1_000_000n), // last stable offset
          int64(0n), // log start offset
          int32(-1), // aborted transactions: null
          int32(records.length),
          records,
        ]);
        const topic = Buffer.concat([string(TOPIC), int32(1), partition]);
        send(Buffer.concat([int32(0), int16(0), int32(0), int32(1), topic]), records.length === 0 ? 100 : 0);
        return;
      }
      default:
        socket.destroy();
    }
  }
}

function runKcat(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const codecNames: Array<[string, CompressionType]> = [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
];

const COUNT = 500;
const line = (i: number) => `key${i}:value ${i} ${'compressible text '.repeat(5)}`;

describe('interop with librdkafka (kcat)', () => {
  it('kcat is installed (scripts/install-test-deps.sh)', () => assert.ok(kcatPresent));
  const broker = new StandInBroker();
  before(() => broker.start());
  after(() => broker.stop());

  for (const [name, codec] of codecNames) {
    it(`validates and decodes the ${name} batches librdkafka produces`, async () => {
      broker.produced.length = 0;
      const input = `${Array.from({ length: COUNT }, (_, i) => line(i)).join('\n')}\n`;
      const bootstrap = `127.0.0.1:${broker.port}`;
      const args = ['-P', '-b', bootstrap, '-t', TOPIC, '-p', '0', '-K:', '-z', name, '-H', 'trace=abc'];
      const result = await runKcat([...args, '-X', 'linger.ms=20'], input);
      assert.equal(result.code, 0, result.stderr);
      const decoded: string[] = [];
      for (const records of broker.produced) {
        const validation = validateRecordBatches(records);
        assert.ok(validation.ok, validation.ok ? '' : validation.message);
        for (const batch of validation.batches) {
          assert.equal(batch.compression, codec);
          for (const record of await iterateRecordsAsync(records, batch.position)) {
            assert.deepEqual(record.headers, [{ key: 'trace', value: Buffer.from('abc') }]);
            decoded.push(`${record.key}:${record.value}`);
          }
        }
      }
      assert.deepEqual(
        decoded,
        Array.from({ length: COUNT }, (_, i) => line(i)),
      );
    });

    it(`librdkafka consumes a ${name} batch from our builder, checking CRCs`, async () => {
      const records = Array.from({ length: COUNT }, (_, i) => {
        const [key, value] = line(i).split(':');
        return { key, value: value!, headers: [{ key: 'h', value: 'x' }], timestamp: 1_700_000_000_000 + i };
      });
      broker.serve(await buildRecordBatchAsync(records, { compression: codec }));
      const bootstrap = `127.0.0.1:${broker.port}`;
      const args = ['-C', '-b', bootstrap, '-t', TOPIC, '-p', '0', '-o', '0', '-c', String(COUNT)];
      const result = await runKcat([...args, '-f', '%o %T %h %k:%s\\n', '-X', 'check.crcs=true']);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(
        result.stdout.split('\n').slice(0, -1),
        Array.from({ length: COUNT }, (_, i) => `${i} ${1_700_000_000_000 + i} h=x ${line(i)}`),
      );
    });
  }
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../../src/cli/args.js';
import { compileFormat, recordJson, recordPrinter } from '../../../src/cli/record-format.js';
import type { ConsumedRecord } from '../../../src/client/consumer.js';

const record = (over: Partial<ConsumedRecord> = {}): ConsumedRecord => ({
  topic: 'orders',
  partition: 2,
  offset: 41n,
  timestamp: 1718000000123n,
  key: Buffer.from('k1'),
  value: Buffer.from('héllo'),
  headers: [
    { key: 'source', value: Buffer.from('cli') },
    { key: 'empty', value: null },
  ],
  ...over,
});

describe('printing consumed records', () => {
  test("kcat's format tokens print topic, partition, offset, timestamp, key, value, lengths and headers", () => {
    const print = compileFormat('%t/%p@%o %T %k(%K)=%s|%v(%S) [%h] 100%%\\t\\x41\\n');
    assert.equal(
      print(record()).toString(),
      'orders/2@41 1718000000123 k1(2)=héllo|héllo(6) [source=cli,empty=NULL] 100%\tA\n',
    );
  });

  test('a null key or value prints as nothing, with length -1, as kcat does', () => {
    const print = compileFormat('[%k][%K][%s][%S][%h]');
    assert.equal(print(record({ key: null, value: null, headers: [] })).toString(), '[][-1][][-1][]');
  });

  test('%R is the value length as a big-endian 32-bit integer, and binary values pass unchanged', () => {
    const value = Buffer.from([0xff, 0x00, 0x80]);
    const out = compileFormat('%R%s')(record({ value }));
    assert.deepEqual(out, Buffer.concat([Buffer.from([0, 0, 0, 3]), value]));
  });

  test('an unknown token is a usage error', () => {
    assert.throws(
      () => compileFormat('%k %x'),
      (err: Error) => err instanceof UsageError && /%x/.test(err.message),
    );
    assert.throws(() => compileFormat('50%'), UsageError);
  });

  test('the JSON line keeps offsets and timestamps as exact numbers', () => {
    const line = recordJson(record({ offset: 2n ** 53n + 1n }));
    assert.match(line, /"offset":9007199254740993,"timestamp":1718000000123,/);
    assert.deepEqual(JSON.parse(line).headers, [
      { key: 'source', value: 'cli' },
      { key: 'empty', value: null },
    ]);
  });

  test('--format picks text, json or a format string; anything else is a usage error', () => {
    assert.equal(recordPrinter(undefined, false, '\t')(record()).toString(), 'héllo\n');
    assert.equal(recordPrinter('text', true, '=')(record()).toString(), 'k1=héllo\n');
    assert.equal(recordPrinter('%o\\n', false, '\t')(record()).toString(), '41\n');
    assert.match(recordPrinter('json', false, '\t')(record()).toString(), /^\{"topic":"orders".*\}\n$/);
    assert.throws(() => recordPrinter('yaml', false, '\t'), /--format must be text, json or a format string/);
  });
});

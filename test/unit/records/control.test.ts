import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRecordBatch } from '../../../src/records/builder.js';
import {
  buildEndTxnMarkerBatch,
  controlRecordKey,
  endTxnMarkerValue,
  parseControlRecord,
} from '../../../src/records/control.js';
import { iterateRecords } from '../../../src/records/iterate.js';
import { validateRecordBatches } from '../../../src/records/validate.js';
import { RecordDecodeError } from '../../../src/records/varint.js';

describe('control records', () => {
  it('a commit marker batch is a transactional control batch whose record parses back', () => {
    const bytes = buildEndTxnMarkerBatch({
      type: 'COMMIT',
      producerId: 4000n,
      producerEpoch: 3,
      coordinatorEpoch: 17,
      timestamp: 1234n,
      baseOffset: 50n,
    });
    const result = validateRecordBatches(bytes);
    assert.ok(result.ok);
    const info = result.batches[0]!;
    assert.equal(info.isControl, true);
    assert.equal(info.isTransactional, true);
    assert.equal(info.producerId, 4000n);
    assert.equal(info.producerEpoch, 3);
    assert.equal(info.baseSequence, -1);
    const [record] = [...iterateRecords(bytes)];
    assert.equal(record!.offset, 50n);
    assert.deepEqual(parseControlRecord(record!.key, record!.value), {
      type: 'COMMIT',
      version: 0,
      coordinatorEpoch: 17,
    });
  });

  it('the marker key and value have the documented bytes', () => {
    assert.deepEqual(controlRecordKey('ABORT'), Buffer.from([0, 0, 0, 0]));
    assert.deepEqual(controlRecordKey('COMMIT'), Buffer.from([0, 0, 0, 1]));
    assert.deepEqual(endTxnMarkerValue(258), Buffer.from([0, 0, 0, 0, 1, 2]));
  });

  it('parses an abort marker and reports other control types without a coordinator epoch', () => {
    assert.deepEqual(parseControlRecord(controlRecordKey('ABORT'), endTxnMarkerValue(0)), {
      type: 'ABORT',
      version: 0,
      coordinatorEpoch: 0,
    });
    assert.equal(parseControlRecord(controlRecordKey('LEADER_CHANGE'), Buffer.alloc(0)).coordinatorEpoch, null);
    assert.equal(parseControlRecord(Buffer.from([0, 0, 0x7f, 0]), null).type, 'UNKNOWN');
  });

  it('rejects short keys, negative versions and short marker values', () => {
    assert.throws(() => parseControlRecord(Buffer.from([0, 0]), endTxnMarkerValue(1)), RecordDecodeError);
    assert.throws(() => parseControlRecord(null, endTxnMarkerValue(1)), RecordDecodeError);
    assert.throws(() => parseControlRecord(Buffer.from([0xff, 0xff, 0, 1]), endTxnMarkerValue(1)), RecordDecodeError);
    assert.throws(() => parseControlRecord(controlRecordKey('COMMIT'), Buffer.from([0, 0, 1])), RecordDecodeError);
  });

  it('a control batch built by hand through the builder carries the control flag', () => {
    const bytes = buildRecordBatch([{ key: controlRecordKey('ABORT'), value: endTxnMarkerValue(2) }], {
      isControl: true,
      isTransactional: true,
      producerId: 1n,
      producerEpoch: 0,
    });
    const result = validateRecordBatches(bytes);
    assert.ok(result.ok);
    assert.equal(result.batches[0]!.isControl, true);
  });
});

/**
 * Control records: the records of a control batch (attribute bit 5). Their key is
 * `version: int16, type: int16`; transaction markers (ABORT, COMMIT) carry the value
 * `version: int16, coordinatorEpoch: int32` (Kafka's EndTransactionMarker).
 */
import { CompressionType } from './batch-header.js';
import { buildRecordBatch } from './builder.js';
import { RecordDecodeError } from './varint.js';

export const CONTROL_RECORD_TYPES = [
  'ABORT',
  'COMMIT',
  'LEADER_CHANGE',
  'SNAPSHOT_HEADER',
  'SNAPSHOT_FOOTER',
  'KRAFT_VERSION',
  'KRAFT_VOTERS',
] as const;

export type ControlRecordType = (typeof CONTROL_RECORD_TYPES)[number] | 'UNKNOWN';

export interface ControlRecord {
  type: ControlRecordType;
  /** The key's version. */
  version: number;
  /** The transaction coordinator's epoch for ABORT and COMMIT markers; null for other types. */
  coordinatorEpoch: number | null;
}

const CONTROL_KEY_SIZE = 4;
const END_TXN_MARKER_SIZE = 6;

/** Decode a control record's key and value. A short or negative-version key throws RecordDecodeError. */
export function parseControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < CONTROL_KEY_SIZE) {
    throw new RecordDecodeError(`control record key must hold ${CONTROL_KEY_SIZE} bytes`);
  }
  const version = key.readInt16BE(0);
  if (version < 0) throw new RecordDecodeError(`invalid control record key version ${version}`);
  const typeId = key.readInt16BE(2);
  const type: ControlRecordType = CONTROL_RECORD_TYPES[typeId] ?? 'UNKNOWN';
  if (type !== 'ABORT' && type !== 'COMMIT') return { type, version, coordinatorEpoch: null };
  if (value === null || value.length < END_TXN_MARKER_SIZE) {
    throw new RecordDecodeError(`transaction marker value must hold ${END_TXN_MARKER_SIZE} bytes`);
  }
  const markerVersion = value.readInt16BE(0);
  if (markerVersion < 0) throw new RecordDecodeError(`invalid transaction marker version ${markerVersion}`);
  return { type, version, coordinatorEpoch: value.readInt32BE(2) };
}

/** The key of a control record of `type` (key version 0). */
export function controlRecordKey(type: Exclude<ControlRecordType, 'UNKNOWN'>): Buffer {
  const key = Buffer.alloc(CONTROL_KEY_SIZE);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(CONTROL_RECORD_TYPES.indexOf(type), 2);
  return key;
}

/** The value of a transaction marker (EndTransactionMarker version 0). */
export function endTxnMarkerValue(coordinatorEpoch: number): Buffer {
  const value = Buffer.alloc(END_TXN_MARKER_SIZE);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

/**
 * A control batch holding one transaction marker, as the transaction coordinator writes to each partition
 * when a transaction ends: transactional and control flags set, uncompressed, no base sequence.
 */
export function buildEndTxnMarkerBatch(marker: {
  type: 'ABORT' | 'COMMIT';
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp?: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}): Buffer {
  const timestamp = marker.timestamp ?? BigInt(Date.now());
  return buildRecordBatch(
    [{ key: controlRecordKey(marker.type), value: endTxnMarkerValue(marker.coordinatorEpoch), timestamp }],
    {
      baseOffset: marker.baseOffset,
      compression: CompressionType.None,
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      baseSequence: -1,
      isTransactional: true,
      isControl: true,
      partitionLeaderEpoch: marker.partitionLeaderEpoch,
    },
  );
}

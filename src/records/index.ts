/** Record batch v2: layout, validation, in-place patching, decoding, compression and building. */
export * from './batch-header.js';
export * from './builder.js';
export * from './compression.js';
export * from './control.js';
export * from './crc32c.js';
export * from './iterate.js';
export { setLogAppendTime } from './patch.js';
export * from './validate.js';
export { RecordDecodeError, RecordReader } from './varint.js';

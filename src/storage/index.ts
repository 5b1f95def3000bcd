/** The partition log and its engines: see README.md in this folder. */
export * from './checkpoint-files.js';
export { DiskFs } from './disk-fs.js';
export * from './errors.js';
export { DEFAULT_MAX_OPEN_FILES, FileCache } from './file-cache.js';
export * from './intercept-fs.js';
export { LeaderEpochCache } from './leader-epoch-cache.js';
export * from './log-cleaner.js';
export * from './log-config.js';
export * from './log-dir-lock.js';
export { PREALLOCATED_INDEX_BYTES, segmentFileName, type TimestampLookup } from './log-segment.js';
export * from './log-store.js';
export { MemoryFs } from './memory-fs.js';
export * from './partition-log.js';
export * from './read-pool.js';
export { errorCode, type FileStat, fsError, type OpenMode, type StorageFs } from './storage-fs.js';

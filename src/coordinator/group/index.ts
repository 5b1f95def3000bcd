/** The classic group coordinator and its offset store; see group-coordinator.ts and ../README.md. */
export * from '../runtime/coordinator-log.js';
export * from '../runtime/timers.js';
export * from './classic-group.js';
export * from './group-coordinator.js';
export * from './offsets-topic-records.js';
export * from './partition-for.js';

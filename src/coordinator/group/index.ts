/** The classic group coordinator and its offset store; see group-coordinator.ts. */
export * from './classic-group.js';
export * from './coordinator-log.js';
export * from './group-coordinator.js';
export * from './offsets-topic-records.js';
export * from './partition-for.js';
export * from './timers.js';

import type { GroupCoordinator } from './group-coordinator.js';

/** What the group handlers need of the broker: `broker.groups`. */
export interface HasGroupCoordinator {
  readonly groups: GroupCoordinator;
}
export * from './handler-support.js';

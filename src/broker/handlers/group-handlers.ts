/**
 * The handlers of the consumer-group APIs (the classic protocol and the offset store) side by side, for the
 * group handler tests to run each of them. The broker does not import this list: handlers/index.ts
 * registers the same files, each loaded on its API's first request.
 */
import type { HandlerDefinition } from '../registry.js';
import offsetCommit from './08-offset-commit.js';
import offsetFetch from './09-offset-fetch.js';
import findCoordinator from './10-find-coordinator.js';
import joinGroup from './11-join-group.js';
import heartbeat from './12-heartbeat.js';
import leaveGroup from './13-leave-group.js';
import syncGroup from './14-sync-group.js';
import describeGroups from './15-describe-groups.js';
import listGroups from './16-list-groups.js';
import deleteGroups from './42-delete-groups.js';
import offsetDelete from './47-offset-delete.js';
import consumerGroupHeartbeat from './68-consumer-group-heartbeat.js';
import consumerGroupDescribe from './69-consumer-group-describe.js';

// biome-ignore lint/suspicious/noExplicitAny: the registry takes definitions of every request/response type.
export const GROUP_HANDLERS: HandlerDefinition<any, any>[] = [
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetDelete,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
];

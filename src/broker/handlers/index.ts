/**
 * Every API this broker serves, with the versions it serves: one file per api key, each defining its handler
 * with the same range. A file (and its codec) is imported on its API's first request, not at start-up; the
 * registry checks then that the file agrees with the range registered here.
 */
import { ApiKey } from '../../protocol/generated/api-keys.js';
import type { HandlerRegistration, HandlerRegistry } from '../registry.js';

/** An API served at versions minVersion to maxVersion by the handler in the file `load` imports. */
function serve(
  apiKey: ApiKey,
  minVersion: number,
  maxVersion: number,
  load: HandlerRegistration['load'],
): HandlerRegistration {
  return { apiKey, minVersion, maxVersion, load };
}

export const HANDLERS: readonly HandlerRegistration[] = [
  serve(ApiKey.PRODUCE, 0, 11, () => import('./00-produce.js')),
  serve(ApiKey.FETCH, 0, 17, () => import('./01-fetch.js')),
  serve(ApiKey.LIST_OFFSETS, 0, 10, () => import('./02-list-offsets.js')),
  serve(ApiKey.METADATA, 0, 12, () => import('./03-metadata.js')),
  serve(ApiKey.OFFSET_COMMIT, 0, 9, () => import('./08-offset-commit.js')),
  serve(ApiKey.OFFSET_FETCH, 0, 9, () => import('./09-offset-fetch.js')),
  serve(ApiKey.FIND_COORDINATOR, 0, 6, () => import('./10-find-coordinator.js')),
  serve(ApiKey.JOIN_GROUP, 0, 9, () => import('./11-join-group.js')),
  serve(ApiKey.HEARTBEAT, 0, 4, () => import('./12-heartbeat.js')),
  serve(ApiKey.LEAVE_GROUP, 0, 5, () => import('./13-leave-group.js')),
  serve(ApiKey.SYNC_GROUP, 0, 5, () => import('./14-sync-group.js')),
  serve(ApiKey.DESCRIBE_GROUPS, 0, 5, () => import('./15-describe-groups.js')),
  serve(ApiKey.LIST_GROUPS, 0, 5, () => import('./16-list-groups.js')),
  serve(ApiKey.SASL_HANDSHAKE, 0, 1, () => import('./17-sasl-handshake.js')),
  serve(ApiKey.API_VERSIONS, 0, 4, () => import('./18-api-versions.js')),
  serve(ApiKey.CREATE_TOPICS, 0, 7, () => import('./19-create-topics.js')),
  serve(ApiKey.DELETE_TOPICS, 0, 6, () => import('./20-delete-topics.js')),
  serve(ApiKey.DELETE_RECORDS, 0, 2, () => import('./21-delete-records.js')),
  serve(ApiKey.INIT_PRODUCER_ID, 0, 5, () => import('./22-init-producer-id.js')),
  serve(ApiKey.OFFSET_FOR_LEADER_EPOCH, 0, 4, () => import('./23-offset-for-leader-epoch.js')),
  serve(ApiKey.WRITE_TXN_MARKERS, 1, 1, () => import('./27-write-txn-markers.js')),
  serve(ApiKey.DESCRIBE_ACLS, 0, 3, () => import('./29-describe-acls.js')),
  serve(ApiKey.CREATE_ACLS, 0, 3, () => import('./30-create-acls.js')),
  serve(ApiKey.DELETE_ACLS, 0, 3, () => import('./31-delete-acls.js')),
  serve(ApiKey.DESCRIBE_CONFIGS, 0, 4, () => import('./32-describe-configs.js')),
  serve(ApiKey.ALTER_CONFIGS, 0, 2, () => import('./33-alter-configs.js')),
  serve(ApiKey.SASL_AUTHENTICATE, 0, 2, () => import('./36-sasl-authenticate.js')),
  serve(ApiKey.CREATE_PARTITIONS, 0, 3, () => import('./37-create-partitions.js')),
  serve(ApiKey.DELETE_GROUPS, 0, 2, () => import('./42-delete-groups.js')),
  serve(ApiKey.INCREMENTAL_ALTER_CONFIGS, 0, 1, () => import('./44-incremental-alter-configs.js')),
  serve(ApiKey.OFFSET_DELETE, 0, 0, () => import('./47-offset-delete.js')),
  serve(ApiKey.DESCRIBE_CLIENT_QUOTAS, 0, 1, () => import('./48-describe-client-quotas.js')),
  serve(ApiKey.ALTER_CLIENT_QUOTAS, 0, 1, () => import('./49-alter-client-quotas.js')),
  serve(ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, () => import('./50-describe-user-scram-credentials.js')),
  serve(ApiKey.ALTER_USER_SCRAM_CREDENTIALS, 0, 0, () => import('./51-alter-user-scram-credentials.js')),
  serve(ApiKey.DESCRIBE_CLUSTER, 0, 1, () => import('./60-describe-cluster.js')),
  serve(ApiKey.DESCRIBE_PRODUCERS, 0, 0, () => import('./61-describe-producers.js')),
  serve(ApiKey.CONSUMER_GROUP_HEARTBEAT, 0, 1, () => import('./68-consumer-group-heartbeat.js')),
  serve(ApiKey.CONSUMER_GROUP_DESCRIBE, 0, 0, () => import('./69-consumer-group-describe.js')),
];

export function registerAllHandlers(registry: HandlerRegistry): void {
  for (const registration of HANDLERS) registry.register(registration);
}

/**
 * Which versions of each API this client speaks, and the negotiation with a broker's ApiVersions answer:
 * per API, the highest version both sides know. The ranges are what the client's code handles, which is
 * narrower than what the codecs can encode: Produce starts at v3 (record batch v2), Fetch at v4 (read
 * isolation and record batch v2), ListOffsets at v1 (one offset per partition, not a list).
 */
import { ApiKey } from '../protocol/generated/api-keys.js';

export interface VersionRange {
  minVersion: number;
  maxVersion: number;
}

export const CLIENT_VERSIONS: ReadonlyMap<number, VersionRange> = new Map<number, VersionRange>([
  [ApiKey.PRODUCE, { minVersion: 3, maxVersion: 11 }],
  [ApiKey.FETCH, { minVersion: 4, maxVersion: 17 }],
  [ApiKey.LIST_OFFSETS, { minVersion: 1, maxVersion: 10 }],
  [ApiKey.METADATA, { minVersion: 1, maxVersion: 12 }],
  [ApiKey.OFFSET_COMMIT, { minVersion: 2, maxVersion: 9 }],
  [ApiKey.OFFSET_FETCH, { minVersion: 1, maxVersion: 9 }],
  [ApiKey.FIND_COORDINATOR, { minVersion: 0, maxVersion: 6 }],
  [ApiKey.JOIN_GROUP, { minVersion: 0, maxVersion: 9 }],
  [ApiKey.HEARTBEAT, { minVersion: 0, maxVersion: 4 }],
  [ApiKey.LEAVE_GROUP, { minVersion: 0, maxVersion: 5 }],
  [ApiKey.SYNC_GROUP, { minVersion: 0, maxVersion: 5 }],
  [ApiKey.DESCRIBE_GROUPS, { minVersion: 0, maxVersion: 5 }],
  [ApiKey.LIST_GROUPS, { minVersion: 0, maxVersion: 5 }],
  [ApiKey.API_VERSIONS, { minVersion: 0, maxVersion: 3 }],
  [ApiKey.CREATE_TOPICS, { minVersion: 0, maxVersion: 7 }],
  [ApiKey.DELETE_TOPICS, { minVersion: 0, maxVersion: 6 }],
  [ApiKey.DESCRIBE_CONFIGS, { minVersion: 0, maxVersion: 4 }],
  [ApiKey.ALTER_CONFIGS, { minVersion: 0, maxVersion: 2 }],
  [ApiKey.CREATE_PARTITIONS, { minVersion: 0, maxVersion: 3 }],
  [ApiKey.DELETE_GROUPS, { minVersion: 0, maxVersion: 2 }],
  [ApiKey.INCREMENTAL_ALTER_CONFIGS, { minVersion: 0, maxVersion: 1 }],
  [ApiKey.OFFSET_DELETE, { minVersion: 0, maxVersion: 0 }],
  [ApiKey.DESCRIBE_CLIENT_QUOTAS, { minVersion: 0, maxVersion: 1 }],
  [ApiKey.ALTER_CLIENT_QUOTAS, { minVersion: 0, maxVersion: 1 }],
  [ApiKey.DESCRIBE_CLUSTER, { minVersion: 0, maxVersion: 1 }],
  [ApiKey.DESCRIBE_USER_SCRAM_CREDENTIALS, { minVersion: 0, maxVersion: 0 }],
  [ApiKey.ALTER_USER_SCRAM_CREDENTIALS, { minVersion: 0, maxVersion: 0 }],
]);

/**
 * The version to use for each API both sides know: the highest version inside both ranges. An API whose
 * ranges do not overlap is left out, as is one the broker does not serve.
 */
export function negotiateVersions(
  broker: Iterable<{ apiKey: number } & VersionRange>,
  client: ReadonlyMap<number, VersionRange> = CLIENT_VERSIONS,
): Map<number, number> {
  const chosen = new Map<number, number>();
  for (const b of broker) {
    const c = client.get(b.apiKey);
    if (!c) continue;
    const version = Math.min(b.maxVersion, c.maxVersion);
    if (version >= Math.max(b.minVersion, c.minVersion)) chosen.set(b.apiKey, version);
  }
  return chosen;
}

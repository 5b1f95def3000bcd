/**
 * Differential conformance of ApiVersions and of request framing: what Kafka answers to version ranges,
 * unknown tagged fields, trailing bytes, unsupported versions and unknown API keys, compared with Sluice.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HANDLERS } from '../../src/broker/handlers/index.js';
import { MetadataApi } from '../../src/protocol/generated/03-metadata.js';
import { ApiVersionsApi, type ApiVersionsResponse } from '../../src/protocol/generated/18-api-versions.js';
import { API_BY_KEY } from '../../src/protocol/generated/index.js';
import { ZERO_UUID } from '../../src/protocol/reader.js';
import { REPO_ROOT } from '../helpers/broker-process.js';
import { useDifferential } from './differential.js';

const harness = useDifferential();
/** APIs newer than the message definitions Sluice's codecs are generated from, by Kafka 4.3's names. */
const NEWER_API_NAMES: Record<number, string> = {
  80: 'AddRaftVoter',
  81: 'RemoveRaftVoter',
  82: 'UpdateRaftVoter',
  83: 'InitializeShareGroupState',
  84: 'ReadShareGroupState',
  85: 'WriteShareGroupState',
  86: 'DeleteShareGroupState',
  87: 'ReadShareGroupStateSummary',
  88: 'StreamsGroupHeartbeat',
  89: 'StreamsGroupDescribe',
  90: 'DescribeShareGroupOffsets',
  91: 'AlterShareGroupOffsets',
  92: 'DeleteShareGroupOffsets',
};
const TRAILING = Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]);

/** The version ranges docs/kafka-differences.md lists as differing: `- **Name**: Kafka a–b, Sluice c–d`. */
function documentedRanges(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'docs', 'kafka-differences.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^- \*\*(\w+)\*\*: Kafka (\d+)–(\d+), Sluice (\d+)–(\d+)/gm)) {
    out.set(m[1]!, `Kafka ${m[2]}–${m[3]}, Sluice ${m[4]}–${m[5]}`);
  }
  return out;
}

/** Kafka-only content of ApiVersions: the API list is compared separately, features are not served. */
function withoutApiList(body: ApiVersionsResponse): void {
  body.apiKeys = [];
  body.supportedFeatures = [];
  body.finalizedFeatures = [];
  body.finalizedFeaturesEpoch = -1n;
}

describe('ApiVersions and framing against Apache Kafka', { skip: harness.skip }, () => {
  test('every API Sluice serves has the version range Kafka advertises, or the difference is documented', () => {
    const d = harness.get();
    const documented = documentedRanges();
    const undocumented: string[] = [];
    for (const h of HANDLERS) {
      const name = API_BY_KEY.get(h.apiKey)!.name;
      const kafka = d.advertised.kafka.get(h.apiKey);
      const sluice = d.advertised.sluice.get(h.apiKey);
      assert.ok(sluice, `Sluice does not advertise ${name}, which it serves`);
      assert.deepEqual([sluice.minVersion, sluice.maxVersion], [h.minVersion, h.maxVersion]);
      assert.ok(kafka, `Kafka 4.3 does not advertise ${name}`);
      if (kafka.minVersion === sluice.minVersion && kafka.maxVersion === sluice.maxVersion) {
        assert.ok(!documented.has(name), `${name} is listed as differing but both serve the same versions`);
        continue;
      }
      const actual = `Kafka ${kafka.minVersion}–${kafka.maxVersion}, Sluice ${sluice.minVersion}–${sluice.maxVersion}`;
      if (documented.get(name) !== actual) undocumented.push(`${name}: ${actual}`);
    }
    assert.deepEqual(undocumented, [], 'version ranges that differ and are not in docs/kafka-differences.md');
  });

  test('every API Kafka serves and Sluice does not is named in docs/kafka-differences.md', () => {
    const d = harness.get();
    const text = readFileSync(join(REPO_ROOT, 'docs', 'kafka-differences.md'), 'utf8');
    const missing: string[] = [];
    for (const apiKey of d.advertised.kafka.keys()) {
      if (d.advertised.sluice.has(apiKey)) continue;
      const name = API_BY_KEY.get(apiKey)?.name ?? NEWER_API_NAMES[apiKey] ?? `api key ${apiKey}`;
      if (!text.includes(`${name} (${apiKey})`)) missing.push(`${name} (${apiKey})`);
    }
    assert.deepEqual(missing, []);
    for (const apiKey of d.advertised.sluice.keys()) {
      assert.ok(d.advertised.kafka.has(apiKey), `Sluice advertises api key ${apiKey}, which Kafka 4.3 does not`);
    }
  });

  test('ApiVersions answers as Kafka does at every version both serve', async () => {
    const d = harness.get();
    const versions = d.commonVersions(ApiVersionsApi);
    assert.deepEqual(versions, [0, 1, 2, 3, 4]);
    for (const version of versions) {
      await d.compare(
        ApiVersionsApi,
        version,
        { clientSoftwareName: 'sluice-conformance', clientSoftwareVersion: '1.0' },
        { normalise: withoutApiList },
      );
    }
  });

  test('ApiVersions at a version the broker does not know answers UNSUPPORTED_VERSION with v0 and its own range', async () => {
    const d = harness.get();
    // A newer client sends its newest ApiVersions; the broker answers in v0 so the client can read it.
    const answers = await d.send(ApiVersionsApi, 127, Buffer.alloc(0), { responseVersion: 0 });
    assert.equal(answers.kafka.errorCode, 35);
    const own = (body: ApiVersionsResponse) =>
      body.apiKeys.filter((a) => a.apiKey === ApiVersionsApi.apiKey).map((a) => [a.minVersion, a.maxVersion]);
    assert.deepEqual(own(answers.sluice), own(answers.kafka));
    assert.equal(answers.sluice.errorCode, answers.kafka.errorCode);
  });

  test('ApiVersions ignores a client software name that breaks the pattern, as Kafka does', async () => {
    const d = harness.get();
    await d.compare(
      ApiVersionsApi,
      3,
      { clientSoftwareName: 'bad name!', clientSoftwareVersion: '' },
      { normalise: withoutApiList },
    );
  });

  test('unknown tagged fields in a flexible request body and header are ignored', async () => {
    const d = harness.get();
    const request = {
      ...MetadataApi.defaultRequest(),
      topics: [],
      _unknownTaggedFields: [{ tag: 42, data: Buffer.from('from a newer client') }],
    };
    await d.compare(MetadataApi, 12, request, { normalise: (b) => (b.brokers = []) });
    await d.compare(
      ApiVersionsApi,
      3,
      {
        clientSoftwareName: 'x',
        clientSoftwareVersion: '1',
        _unknownTaggedFields: [{ tag: 7, data: Buffer.from([1, 2, 3]) }],
      },
      { normalise: withoutApiList, headerTaggedFields: [{ tag: 9, data: Buffer.from([9]) }] },
    );
  });

  test('bytes after the known fields of a request are ignored, as Kafka does', {}, async () => {
    const d = harness.get();
    await d.compare(
      ApiVersionsApi,
      3,
      { clientSoftwareName: 'x', clientSoftwareVersion: '1' },
      { trailingBytes: TRAILING, normalise: withoutApiList },
    );
    await d.compare(MetadataApi, 1, { ...MetadataApi.defaultRequest(), topics: [] }, { trailingBytes: TRAILING });
    await d.compare(
      MetadataApi,
      12,
      {
        ...MetadataApi.defaultRequest(),
        topics: [{ topicId: ZERO_UUID, name: 'no-such-topic-trailing' }],
        allowAutoTopicCreation: false,
      },
      { trailingBytes: TRAILING },
    );
  });

  test('a request of a version the broker does not serve closes the connection', async () => {
    const d = harness.get();
    const answers = await d.exchange(MetadataApi, 99, Buffer.alloc(0));
    assert.equal(answers.kafka.answered, false);
    assert.equal(answers.sluice.answered, answers.kafka.answered);
  });

  test('a request of an API key the broker does not know closes the connection', async () => {
    const d = harness.get();
    const answers = await d.exchange({ ...MetadataApi, apiKey: 999 }, 0, Buffer.alloc(0));
    assert.equal(answers.kafka.answered, false);
    assert.equal(answers.sluice.answered, answers.kafka.answered);
  });

  test('a request with a null client id is answered', async () => {
    const d = harness.get();
    await d.compare(ApiVersionsApi, 2, ApiVersionsApi.defaultRequest(), { clientId: null, normalise: withoutApiList });
  });
});

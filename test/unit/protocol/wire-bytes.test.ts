// Byte-exact checks against frames built by hand from the Kafka protocol guide's encoding rules:
// big-endian integers, int16-length strings, compact (uvarint length+1) strings and arrays in
// flexible versions, and a tagged-field section (count, then tag, size, bytes) closing every struct.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApiVersionsApi,
  type ApiVersionsRequest,
  type ApiVersionsResponse,
  encodeRequestHeader,
  encodeResponseHeader,
  MetadataApi,
  type MetadataResponse,
  OffsetFetchApi,
  ProduceApi,
  type ProduceResponse,
  type RequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../src/protocol/generated/index.js';
import { readRequestHeader, writeResponseHeader } from '../../../src/protocol/headers.js';
import { Reader } from '../../../src/protocol/reader.js';
import { Writer } from '../../../src/protocol/writer.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): string => Buffer.from(s).toString('hex');

function encoded(fill: (w: Writer) => void): string {
  const w = new Writer();
  fill(w);
  return w.toBuffer().toString('hex');
}

test('request header v0 (ControlledShutdown v0) is api key, api version and correlation id only', () => {
  const bytes = hex('0007 0000 0000002a');
  assert.equal(requestHeaderVersion(7, 0), 0);
  const { header, headerVersion } = readRequestHeader(new Reader(bytes));
  assert.equal(headerVersion, 0);
  assert.deepEqual(header, { requestApiKey: 7, requestApiVersion: 0, correlationId: 42, clientId: '' });
  assert.equal(
    encoded((w) => encodeRequestHeader(w, 0, header)),
    bytes.toString('hex'),
  );
});

test('request header v1 adds a nullable int16-length client id', () => {
  const bytes = hex(`0003 0001 0000002a 0006 ${text('sluice')}`);
  const { header, headerVersion } = readRequestHeader(new Reader(bytes));
  assert.equal(headerVersion, 1);
  assert.deepEqual(header, { requestApiKey: 3, requestApiVersion: 1, correlationId: 42, clientId: 'sluice' });
  assert.equal(
    encoded((w) => encodeRequestHeader(w, 1, header)),
    bytes.toString('hex'),
  );

  const nullClient = hex('0003 0001 0000002b ffff');
  assert.equal(readRequestHeader(new Reader(nullClient)).header.clientId, null);
});

test('request header v2 keeps the int16-length client id and adds a tagged-field section', () => {
  const bytes = hex(`0012 0003 0000002a 0006 ${text('sluice')} 00`);
  const r = new Reader(bytes);
  const { header, headerVersion } = readRequestHeader(r);
  assert.equal(headerVersion, 2);
  assert.equal(r.remaining(), 0);
  const expected: RequestHeader = { requestApiKey: 18, requestApiVersion: 3, correlationId: 42, clientId: 'sluice' };
  assert.deepEqual(header, expected);
  assert.equal(
    encoded((w) => encodeRequestHeader(w, 2, expected)),
    bytes.toString('hex'),
  );

  const withTag = hex(`0012 0003 0000002a ffff 01 07 01 aa`);
  const decoded = readRequestHeader(new Reader(withTag)).header;
  assert.equal(decoded.clientId, null);
  assert.deepEqual(decoded._unknownTaggedFields, [{ tag: 7, data: hex('aa') }]);
});

test('response headers are v1 with tagged fields for flexible versions, except ApiVersions which is always v0', () => {
  assert.equal(responseHeaderVersion(3, 8), 0);
  assert.equal(responseHeaderVersion(3, 9), 1);
  assert.equal(responseHeaderVersion(18, 0), 0);
  assert.equal(responseHeaderVersion(18, 3), 0);
  assert.equal(responseHeaderVersion(18, 4), 0);
  assert.equal(requestHeaderVersion(18, 3), 2);
  assert.equal(requestHeaderVersion(7, 1), 1);
  assert.equal(requestHeaderVersion(0, 8), 1);
  assert.equal(requestHeaderVersion(0, 9), 2);
  assert.equal(requestHeaderVersion(9999, 0), 1, 'unknown api keys are read with header v1');
  assert.equal(
    encoded((w) => encodeResponseHeader(w, 0, { correlationId: 42 })),
    '0000002a',
  );
  assert.equal(
    encoded((w) => writeResponseHeader(w, 3, 12, 42)),
    '0000002a00',
  );
  assert.equal(
    encoded((w) => writeResponseHeader(w, 18, 3, 42)),
    '0000002a',
  );
});

test('an ApiVersions v3 request carries the client software name and version as compact strings', () => {
  const bytes = hex(`0c ${text('sluice-test')} 06 ${text('0.1.0')} 00`);
  const request: ApiVersionsRequest = { clientSoftwareName: 'sluice-test', clientSoftwareVersion: '0.1.0' };
  assert.equal(
    encoded((w) => ApiVersionsApi.encodeRequest(w, 3, request)),
    bytes.toString('hex'),
  );
  assert.deepEqual(ApiVersionsApi.decodeRequest(new Reader(bytes), 3), request);
  // Versions 0-2 have no body at all.
  assert.equal(
    encoded((w) => ApiVersionsApi.encodeRequest(w, 2, request)),
    '',
  );
});

test('an ApiVersions v3 response writes its non-default tagged fields in tag order', () => {
  const supportedFeature = `02 11 ${text('metadata.version')} 0001 0014 00`;
  const bytes = hex(
    '0000' + // error code
      '03' + // two api keys
      '0000 0000 000b 00' + // Produce 0-11
      '0012 0000 0004 00' + // ApiVersions 0-4
      '00000000' + // throttle time
      '02' + // two tagged fields
      `00 17 ${supportedFeature}` + // tag 0: SupportedFeatures
      '01 08 0000000000000005', // tag 1: FinalizedFeaturesEpoch
  );
  const response: ApiVersionsResponse = {
    errorCode: 0,
    apiKeys: [
      { apiKey: 0, minVersion: 0, maxVersion: 11 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ],
    throttleTimeMs: 0,
    supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
    finalizedFeaturesEpoch: 5n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
  assert.equal(
    encoded((w) => ApiVersionsApi.encodeResponse(w, 3, response)),
    bytes.toString('hex'),
  );
  assert.deepEqual(ApiVersionsApi.decodeResponse(new Reader(bytes), 3), response);
});

test('known tagged fields equal to their defaults are left out', () => {
  const response = { ...ApiVersionsApi.defaultResponse(), apiKeys: [] };
  assert.equal(
    encoded((w) => ApiVersionsApi.encodeResponse(w, 3, response)),
    '0000' + '01' + '00000000' + '00',
  );
});

const METADATA_V12 = hex(
  '00000000' + // throttle time
    '02' + // one broker
    `00000001 0a ${text('localhost')} 00002384 00 00` + // node 1, localhost:9092, rack null, no tags
    `03 ${text('c1')}` + // cluster id
    '00000001' + // controller id
    '02' + // one topic
    '0000' + // error code
    `04 ${text('foo')}` + // name
    '0102030405060708090a0b0c0d0e0f10' + // topic id
    '00' + // not internal
    '02' + // one partition
    '0000 00000000 00000001 00000000' + // error, index 0, leader 1, leader epoch 0
    '02 00000001' + // replicas [1]
    '02 00000001' + // isr [1]
    '01' + // no offline replicas
    '00' + // partition: no tags
    '80000000' + // topic authorized operations: unset
    '01 05 02 abcd' + // topic: unknown tag 5
    '02 03 01 ee 09 00', // response: unknown tags 3 and 9
);

const METADATA_V12_VALUE: MetadataResponse = {
  throttleTimeMs: 0,
  brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
  clusterId: 'c1',
  controllerId: 1,
  topics: [
    {
      errorCode: 0,
      name: 'foo',
      topicId: '0102030405060708090a0b0c0d0e0f10',
      isInternal: false,
      partitions: [
        {
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 1,
          leaderEpoch: 0,
          replicaNodes: [1],
          isrNodes: [1],
          offlineReplicas: [],
        },
      ],
      topicAuthorizedOperations: -2147483648,
      _unknownTaggedFields: [{ tag: 5, data: hex('abcd') }],
    },
  ],
  clusterAuthorizedOperations: -2147483648,
  _unknownTaggedFields: [
    { tag: 3, data: hex('ee') },
    { tag: 9, data: hex('') },
  ],
};

test('a Metadata v12 response decodes from hand-built bytes, keeping unknown tagged fields', () => {
  const r = new Reader(METADATA_V12);
  assert.deepEqual(MetadataApi.decodeResponse(r, 12), METADATA_V12_VALUE);
  assert.equal(r.remaining(), 0);
});

test('a Metadata v12 response with unknown tagged fields encodes back to the same bytes', () => {
  assert.equal(
    encoded((w) => MetadataApi.encodeResponse(w, 12, METADATA_V12_VALUE)),
    METADATA_V12.toString('hex'),
  );
  const decoded = MetadataApi.decodeResponse(new Reader(METADATA_V12), 12);
  assert.equal(
    encoded((w) => MetadataApi.encodeResponse(w, 12, decoded)),
    METADATA_V12.toString('hex'),
  );
});

test('a Produce v10 partition response writes its current leader as tag 0 before an unknown tag 1', () => {
  const partition = (tags: string): string =>
    `00000000 0000 000000000000000a ffffffffffffffff 0000000000000000 01 00 ${tags}`;
  const response = (leaderId: number, leaderEpoch: number): ProduceResponse => ({
    responses: [
      {
        name: 'foo',
        partitionResponses: [
          {
            index: 0,
            errorCode: 0,
            baseOffset: 10n,
            logAppendTimeMs: -1n,
            logStartOffset: 0n,
            recordErrors: [],
            errorMessage: null,
            currentLeader: { leaderId, leaderEpoch },
            _unknownTaggedFields: [{ tag: 1, data: hex('ff') }],
          },
        ],
      },
    ],
    throttleTimeMs: 0,
    nodeEndpoints: [],
  });
  // One topic, one partition, the topic's and the response's empty tag sections around the throttle time.
  const expected = (tags: string): string =>
    `02 04 ${text('foo')} 02 ${partition(tags)} 00 00000000 00`.replace(/\s+/g, '');
  assert.equal(
    encoded((w) => ProduceApi.encodeResponse(w, 10, response(2, 5))),
    expected('02 00 09 00000002 00000005 00 01 01 ff'),
  );
  assert.equal(
    encoded((w) => ProduceApi.encodeResponse(w, 10, response(-1, -1))),
    expected('01 01 01 ff'),
    'the default leader is not written',
  );
  assert.deepEqual(
    ProduceApi.decodeResponse(new Reader(hex(expected('02 00 09 00000002 00000005 00 01 01 ff'))), 10),
    response(2, 5),
  );
});

test('encoders treat missing fields as their defaults instead of failing or corrupting the frame', () => {
  const partial = { topics: [{ name: 'foo', partitions: [{ partitionIndex: 3 }] }] } as unknown as MetadataResponse;
  const bytes = Buffer.from(
    encoded((w) => MetadataApi.encodeResponse(w, 12, partial)),
    'hex',
  );
  const decoded = MetadataApi.decodeResponse(new Reader(bytes), 12);
  const expected = MetadataApi.defaultResponse();
  assert.equal(decoded.controllerId, expected.controllerId);
  assert.equal(decoded.clusterId, null);
  assert.equal(decoded.topics[0].name, 'foo');
  assert.equal(decoded.topics[0].topicAuthorizedOperations, -2147483648);
  assert.equal(decoded.topics[0].partitions[0].partitionIndex, 3);
  assert.equal(decoded.topics[0].partitions[0].leaderEpoch, -1);
});

test('fields a version lacks are skipped on encode and filled with defaults on decode', () => {
  const value: MetadataResponse = { ...METADATA_V12_VALUE, clusterAuthorizedOperations: 7, throttleTimeMs: 99 };
  const bytes = Buffer.from(
    encoded((w) => MetadataApi.encodeResponse(w, 0, value)),
    'hex',
  );
  const decoded = MetadataApi.decodeResponse(new Reader(bytes), 0);
  assert.equal(decoded.throttleTimeMs, 0, 'v0 has no throttle time');
  assert.equal(decoded.clusterAuthorizedOperations, -2147483648);
  assert.equal(decoded.clusterId, null);
  assert.equal(decoded.topics[0].topicId, '00000000000000000000000000000000');
});

test('an OffsetFetch v9 request is a compact array of groups with member id and epoch, and no top-level topics', () => {
  // Groups: one group "db-reporting-1" (14 bytes) with member "m-1", epoch 5 and topics null; then
  // RequireStable true and an empty tagged-field section. Versions 8+ have no top-level GroupId or Topics.
  const bytes = hex(`02 0f ${text('db-reporting-1')} 04 ${text('m-1')} 00000005 00 00 01 00`);
  const r = new Reader(bytes);
  const request = OffsetFetchApi.decodeRequest(r, 9);
  assert.equal(r.remaining(), 0);
  assert.deepEqual(request.topics, []);
  assert.equal(request.requireStable, true);
  assert.equal(request.groups.length, 1);
  const [group] = request.groups;
  assert.deepEqual(
    [group.groupId, group.memberId, group.memberEpoch, group.topics],
    ['db-reporting-1', 'm-1', 5, null],
  );
  assert.equal(
    encoded((w) => OffsetFetchApi.encodeRequest(w, 9, request)),
    bytes.toString('hex'),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFlexibleVersion } from '../../../src/protocol/api.js';
import { ALL_APIS } from '../../../src/protocol/generated/index.js';
import {
  API_VERSION_TABLE,
  requestHeaderVersion,
  responseHeaderVersion,
} from '../../../src/protocol/generated/version-table.js';

test('the version table holds, for every api key, the name and versions of its codec descriptor', () => {
  assert.equal(API_VERSION_TABLE.length, ALL_APIS.length);
  for (const api of ALL_APIS) {
    assert.deepEqual(API_VERSION_TABLE[api.apiKey], {
      apiKey: api.apiKey,
      name: api.name,
      minVersion: api.minVersion,
      maxVersion: api.maxVersion,
      flexibleMinVersion: api.flexibleMinVersion,
    });
  }
});

test('flexible versions take request header v2 and response header v1, except ApiVersions responses (v0)', () => {
  for (const api of ALL_APIS) {
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      const flexible = isFlexibleVersion(api, version);
      const request = api.apiKey === 7 && version === 0 ? 0 : flexible ? 2 : 1;
      assert.equal(requestHeaderVersion(api.apiKey, version), request, `${api.name} v${version} request`);
      const response = api.apiKey === 18 ? 0 : flexible ? 1 : 0;
      assert.equal(responseHeaderVersion(api.apiKey, version), response, `${api.name} v${version} response`);
    }
  }
});

test('an api key Kafka does not define is read with request header v1 and answered with response header v0', () => {
  for (const apiKey of [-1, ALL_APIS.length, 32767]) {
    assert.equal(requestHeaderVersion(apiKey, 0), 1);
    assert.equal(responseHeaderVersion(apiKey, 0), 0);
  }
});

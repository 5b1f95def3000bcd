import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jsonRecord } from '../../../src/cli/produce.js';

describe('JSON lines given to sluice produce', () => {
  test('a line gives key, value, headers, partition and timestamp', () => {
    assert.deepEqual(
      jsonRecord('{"key":"k","value":"v","headers":{"a":"1","b":null},"partition":3,"timestamp":1718000000000}'),
      {
        key: 'k',
        value: 'v',
        headers: [
          { key: 'a', value: '1' },
          { key: 'b', value: null },
        ],
        partition: 3,
        timestamp: 1718000000000n,
      },
    );
  });

  test("consume's JSON lines are accepted as they are: headers as a list, topic and offset ignored", () => {
    const line =
      '{"topic":"orders","partition":0,"offset":17,"timestamp":5,"key":null,"value":"x","headers":[{"key":"h","value":"v"}]}';
    assert.deepEqual(jsonRecord(line), {
      key: null,
      value: 'x',
      partition: 0,
      timestamp: 5n,
      headers: [{ key: 'h', value: 'v' }],
    });
  });

  test('a value that is not a string is sent as its JSON text; a missing key is left to --key', () => {
    const r = jsonRecord('{"value":{"id":1,"tags":["a"]}}');
    assert.equal(r.value, '{"id":1,"tags":["a"]}');
    assert.equal(Object.hasOwn(r, 'key'), false);
    assert.equal(jsonRecord('{"value":null}').value, null, 'a tombstone');
  });

  test('mistakes are errors, not records with null fields', () => {
    assert.throws(() => jsonRecord('{"vale":"x"}'), /unknown field "vale"/);
    assert.throws(() => jsonRecord('{"key":"k"}'), /no "value" field/);
    assert.throws(() => jsonRecord('not json'), /not JSON/);
    assert.throws(() => jsonRecord('[1,2]'), /expected a JSON object/);
    assert.throws(() => jsonRecord('{"value":"x","partition":-1}'), /"partition" must be/);
    assert.throws(() => jsonRecord('{"value":"x","headers":"a=b"}'), /"headers" must be/);
  });
});

/**
 * The cluster layer without etcd: the single-node metadata source, the etcd key helpers, and a broker that
 * runs alone answering from its image (with its rack), exporting the cluster gauges, and never loading
 * the etcd client.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import type { IKeyValue } from 'etcd3';
import { runCluster } from '../../../src/cli/cluster.js';
import { controllerFrom, parseRegistration, registrationValue } from '../../../src/cluster/etcd-keys.js';
import { SingleNodeMetadataSource } from '../../../src/cluster/index.js';
import { startBroker } from '../../../src/index.js';
import { MetadataApi } from '../../../src/protocol/generated/03-metadata.js';
import { DescribeClusterApi } from '../../../src/protocol/generated/60-describe-cluster.js';
import { REPO_ROOT } from '../../helpers/broker-process.js';
import { quietly } from '../../helpers/console-capture.js';
import { RawClient } from '../../helpers/raw-client.js';

const listener = { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092 };

describe('the single-node metadata source', () => {
  test('the cluster id in the data dir wins over the configured one, which wins over a new random one', async () => {
    assert.equal(await new SingleNodeMetadataSource(1).agreeClusterId('local-id', 'configured-id'), 'local-id');
    assert.equal(await new SingleNodeMetadataSource(1).agreeClusterId(null, 'configured-id'), 'configured-id');
    const made = await new SingleNodeMetadataSource(1).agreeClusterId(null, null);
    assert.match(made, /^[A-Za-z0-9_-]{22}$/, 'Kafka’s form: 16 random bytes in URL-safe base64');
    assert.notEqual(made, await new SingleNodeMetadataSource(1).agreeClusterId(null, null));
  });

  test('once registered, the image holds this broker alone, unregistered (epoch -1), as its own controller', async () => {
    const source = new SingleNodeMetadataSource(7);
    const clusterId = await source.agreeClusterId(null, 'c1');
    await source.register({ nodeId: 7, rack: 'r1', listeners: [listener] });
    assert.deepEqual(source.image(), {
      clusterId,
      controllerId: 7,
      brokers: [{ nodeId: 7, rack: 'r1', listeners: [listener], brokerEpoch: -1n }],
    });
  });
});

describe('etcd keys', () => {
  const kv = (value: string, createRevision: number, modRevision = createRevision) =>
    ({
      key: Buffer.from('k'),
      value: Buffer.from(value),
      create_revision: String(createRevision),
      mod_revision: String(modRevision),
      version: '1',
      lease: '1',
    }) as IKeyValue;

  test('the controller is the candidate with the oldest key, whatever order the keys come in', () => {
    assert.equal(controllerFrom([kv('3', 12), kv('2', 9), kv('1', 15)]), 2);
    assert.equal(controllerFrom([]), -1);
  });

  test('a registration reads back with its modification revision as the broker epoch', () => {
    const value = registrationValue({ nodeId: 2, rack: null, listeners: [listener] });
    assert.deepEqual(parseRegistration(kv(value, 4, 40)), {
      nodeId: 2,
      rack: null,
      listeners: [listener],
      brokerEpoch: 40n,
    });
    assert.equal(parseRegistration(kv('not json', 1)), null);
    assert.equal(parseRegistration(kv('{"nodeId":1,"listeners":[]}', 1)), null);
  });
});

describe('a broker without etcd', () => {
  test('Metadata and DescribeCluster list it with its broker.rack as the controller', async () => {
    const kafka = await startBroker({ config: { 'node.id': 3, 'broker.rack': 'rack-a' } });
    const client = await RawClient.connect(kafka.broker.port);
    try {
      const metadata = await client.request(MetadataApi, 12, { ...MetadataApi.defaultRequest(), topics: [] });
      assert.deepEqual(metadata.brokers, [{ nodeId: 3, host: '127.0.0.1', port: kafka.broker.port, rack: 'rack-a' }]);
      assert.equal(metadata.controllerId, 3);
      const cluster = await client.request(DescribeClusterApi, 1, {
        ...DescribeClusterApi.defaultRequest(),
        endpointType: 1,
      });
      assert.deepEqual(cluster.brokers, [{ brokerId: 3, host: '127.0.0.1', port: kafka.broker.port, rack: 'rack-a' }]);
      assert.equal(cluster.controllerId, 3);
      assert.equal(cluster.clusterId, metadata.clusterId);
    } finally {
      client.close();
      await kafka.stop();
    }
  });

  test('its metrics count one broker in the cluster and say it is the controller', async () => {
    const kafka = await startBroker({ config: { 'admin.http.listener': '127.0.0.1:0' } });
    try {
      const text = await (await fetch(`http://127.0.0.1:${kafka.broker.httpPort}/metrics`)).text();
      assert.match(text, /^sluice_cluster_brokers 1$/m);
      assert.match(text, /^sluice_cluster_is_controller 1$/m);
    } finally {
      await kafka.stop();
    }
  });

  test('sluice cluster status without --etcd reports it from DescribeCluster, with no epochs', async () => {
    const kafka = await startBroker({ config: { 'node.id': 5 } });
    let printed: string;
    try {
      const { result, out } = await quietly(() => runCluster(['status', '-b', kafka.bootstrap, '--format', 'json']));
      assert.equal(result, 0);
      printed = out;
    } finally {
      await kafka.stop();
    }
    const status = JSON.parse(printed);
    assert.equal(status.source, 'DescribeCluster');
    assert.equal(status.controllerId, 5);
    assert.deepEqual(status.brokers, [
      { nodeId: 5, host: '127.0.0.1', port: kafka.broker.port, rack: null, brokerEpoch: null },
    ]);
    assert.deepEqual(status.etcd, []);
  });

  test('starting and stopping it never loads the etcd client', () => {
    const script = `
      const { startBroker } = await import(${JSON.stringify(`${REPO_ROOT}dist/src/index.js`)});
      const kafka = await startBroker();
      await kafka.stop();
      const { createRequire } = await import('node:module');
      const cache = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify(cache.filter((f) => /node_modules\\/(etcd3|@grpc)\\//.test(f))));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1) as string), []);
  });
});

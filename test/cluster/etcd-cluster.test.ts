/**
 * etcd and brokers as separate hosts (network namespaces, see harness.ts): registration, the controller
 * election, failover after a crash, a broker cut off and restored, and the cluster id agreed at first start.
 * The session timeout is 2 s, so a lease outlives its broker by 2 s at most; the bounds below leave room
 * for a loaded 2-core machine.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type ClusterBroker,
  type EtcdView,
  NetnsHarness,
  type Probe,
  SLUICE,
  skipUnlessHarness,
  tempDir,
  waitUntil,
} from './harness.js';

const SESSION_TIMEOUT_MS = 2000;
/** Failover must finish within the session timeout plus this much (lease expiry checks, watches, a busy CPU). */
const SLACK_MS = 8000;

describe('a cluster of three brokers coordinated by etcd', { skip: skipUnlessHarness() }, () => {
  let harness: NetnsHarness;
  let probe: Probe;
  let etcd: string;
  const brokers = new Map<number, ClusterBroker>();
  const hostOf = (nodeId: number) => `b${nodeId}`;

  const start = async (nodeId: number, dataDir?: string) => {
    const broker = await harness.startBroker(hostOf(nodeId), {
      nodeId,
      etcd: [etcd],
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      rack: `rack-${nodeId}`,
      dataDir,
    });
    brokers.set(nodeId, broker);
    return broker;
  };
  const nodeIds = (view: { brokers: Array<{ nodeId: number }> }) => view.brokers.map((b) => b.nodeId);
  const epochOf = (view: EtcdView, nodeId: number) => {
    const epoch = view.brokers.find((b) => b.nodeId === nodeId)?.brokerEpoch;
    return epoch === undefined ? null : BigInt(epoch);
  };

  before(async () => {
    harness = NetnsHarness.create(['etcd', 'b1', 'b2', 'b3', 'client', 'etcd2', 'b4', 'b5', 'b6']);
    etcd = (await harness.startEtcd('etcd')).endpoint;
    probe = harness.startProbe('client');
    await Promise.all([start(1), start(2), start(3)]);
  });

  after(async () => {
    await probe?.close();
    await harness?.teardown();
  });

  it('every broker registers, and Metadata and DescribeCluster from any broker list all three and one controller', async () => {
    const { value: inEtcd } = await waitUntil(
      () => probe.etcd([etcd]),
      (v) => v.brokers.length === 3 && v.controllerId > 0,
      10_000,
      'three brokers and a controller in etcd',
    );
    assert.deepEqual(nodeIds(inEtcd), [1, 2, 3]);
    assert.equal(new Set(inEtcd.brokers.map((b) => b.brokerEpoch)).size, 3, 'each registration has its own epoch');
    assert.deepEqual(
      inEtcd.etcd.map((e) => e.healthy),
      [true],
    );
    for (const broker of brokers.values()) {
      const { value: view } = await waitUntil(
        () => probe.describe(broker.bootstrap),
        (v) => v.metadata.brokers.length === 3 && v.metadata.controllerId === inEtcd.controllerId,
        10_000,
        `broker ${broker.nodeId} sees the cluster`,
      );
      assert.equal(view.metadata.clusterId, inEtcd.clusterId);
      assert.equal(view.describeCluster.clusterId, inEtcd.clusterId);
      assert.equal(view.describeCluster.controllerId, inEtcd.controllerId);
      const expected = [...brokers.values()]
        .sort((a, b) => a.nodeId - b.nodeId)
        .map((b) => ({ nodeId: b.nodeId, host: b.host.address, port: 9092, rack: `rack-${b.nodeId}` }));
      assert.deepEqual(view.metadata.brokers, expected);
      assert.deepEqual(
        view.describeCluster.brokers.map(({ brokerId, ...rest }) => ({ nodeId: brokerId, ...rest })),
        expected,
      );
    }
  });

  it('sluice cluster status prints the brokers with their epochs, the controller and each etcd endpoint, and fails when one does not answer', async () => {
    const inEtcd = await probe.etcd([etcd]);
    const status = harness.spawn('client', process.execPath, [SLUICE, 'cluster', 'status', '--etcd', etcd]);
    assert.equal(await status.exited, 0, status.output());
    const text = status.output();
    assert.match(text, new RegExp(`Cluster: ${inEtcd.clusterId}  Controller: ${inEtcd.controllerId}  Brokers: 3`));
    for (const b of inEtcd.brokers)
      assert.match(
        text,
        new RegExp(`^${b.nodeId}( \\(controller\\))?\\s+${b.brokerEpoch}\\s+${b.host}:9092\\s+rack-${b.nodeId}$`, 'm'),
      );
    assert.match(text, new RegExp(`^${etcd}\\s+healthy\\s+3\\.`, 'm'));

    // An address on the bridge where nothing listens: that endpoint is reported, and the exit status says so.
    const nowhere = `${harness.host('client').address}:2379`;
    const partly = harness.spawn('client', process.execPath, [
      SLUICE,
      'cluster',
      'status',
      '--etcd',
      `${etcd},${nowhere}`,
      '--timeout',
      '1000',
      '--format',
      'json',
    ]);
    assert.equal(await partly.exited, 1, partly.output());
    const json = JSON.parse(partly.output()) as EtcdView;
    assert.deepEqual(
      json.etcd.map((e) => [e.endpoint, e.healthy]),
      [
        [etcd, true],
        [nowhere, false],
      ],
    );
    assert.equal(json.brokers.length, 3, 'the brokers are still read from the endpoint that answers');
  });

  it('a controller killed with SIGKILL is replaced by another broker once its session times out, and comes back with a larger epoch', async (t) => {
    const before = await probe.etcd([etcd]);
    const controller = before.controllerId;
    const formerEpoch = epochOf(before, controller);
    const survivor = [...brokers.values()].find((b) => b.nodeId !== controller) as ClusterBroker;
    const old = brokers.get(controller) as ClusterBroker;
    await old.process.kill('SIGKILL');
    const { value, ms } = await waitUntil(
      () => probe.describe(survivor.bootstrap),
      (v) => v.metadata.controllerId > 0 && v.metadata.controllerId !== controller,
      SESSION_TIMEOUT_MS + SLACK_MS,
      'a new controller',
    );
    t.diagnostic(`new controller ${value.metadata.controllerId} seen ${ms} ms after the old one was killed`);
    assert.ok(!nodeIds(value.metadata).includes(controller), 'the dead controller is no longer listed');
    assert.equal(value.describeCluster.controllerId, value.metadata.controllerId);

    // The same broker, restarted on its data dir, registers again once its former lease is gone.
    await start(controller, old.dataDir);
    const { value: back } = await waitUntil(
      () => probe.etcd([etcd]),
      (v) => epochOf(v, controller) !== null,
      SESSION_TIMEOUT_MS + SLACK_MS,
      'the restarted broker registered',
    );
    assert.ok((epochOf(back, controller) as bigint) > (formerEpoch as bigint), 'a new registration, a larger epoch');
    assert.equal(back.brokers.length, 3);
    assert.notEqual(back.controllerId, controller, 'a returning broker does not take the controller back');
  });

  it('a broker cut off from the network leaves when its lease expires and returns with a larger epoch when its link is restored', async (t) => {
    const before = await probe.etcd([etcd]);
    const cutOff = [...brokers.values()].find((b) => b.nodeId !== before.controllerId) as ClusterBroker;
    const witness = [...brokers.values()].find((b) => b !== cutOff) as ClusterBroker;
    const formerEpoch = epochOf(before, cutOff.nodeId) as bigint;
    harness.cut(hostOf(cutOff.nodeId));
    const gone = await waitUntil(
      () => probe.describe(witness.bootstrap),
      (v) => !nodeIds(v.metadata).includes(cutOff.nodeId),
      SESSION_TIMEOUT_MS + SLACK_MS,
      'the cut-off broker leaves',
    );
    t.diagnostic(`broker ${cutOff.nodeId} left ${gone.ms} ms after its link was cut`);
    assert.ok(
      !gone.value.describeCluster.brokers.some((b) => b.brokerId === cutOff.nodeId),
      'DescribeCluster leaves it out too',
    );

    harness.restore(hostOf(cutOff.nodeId));
    const back = await waitUntil(
      () => probe.etcd([etcd]),
      (v) => (epochOf(v, cutOff.nodeId) ?? -1n) > formerEpoch,
      SESSION_TIMEOUT_MS * 2 + SLACK_MS * 2,
      'the restored broker registers again',
    );
    t.diagnostic(`broker ${cutOff.nodeId} registered again ${back.ms} ms after its link was restored`);
    const { value: view } = await waitUntil(
      () => probe.describe(witness.bootstrap),
      (v) => v.metadata.brokers.length === 3,
      5000,
      'the witness lists it again',
    );
    assert.deepEqual(nodeIds(view.metadata), [1, 2, 3]);
    assert.equal(cutOff.process.child.exitCode, null, 'the broker kept running through the cut');
    // Its own watch of etcd resumed: it sees the others and the controller as etcd holds them.
    await waitUntil(
      () => probe.describe(cutOff.bootstrap),
      (v) => v.metadata.brokers.length === 3 && v.metadata.controllerId === back.value.controllerId,
      5000,
      'the restored broker sees the cluster again',
    );
  });

  it('a broker cut off from etcd still stops cleanly on SIGTERM, and leaves once its lease expires', async (t) => {
    const before = await probe.etcd([etcd]);
    const leaving = [...brokers.values()].find((b) => b.nodeId !== before.controllerId) as ClusterBroker;
    const witness = [...brokers.values()].find((b) => b !== leaving) as ClusterBroker;
    harness.cut(hostOf(leaving.nodeId));
    const started = Date.now();
    assert.equal(await leaving.process.kill('SIGTERM'), 0, leaving.process.output().slice(-2000));
    t.diagnostic(`stopped ${Date.now() - started} ms after SIGTERM`);
    // Leaving is given one session timeout; then gRPC's keep-alive (5 s, answered within 1.5 s) ends the
    // calls left on the dead connection, and the process exits.
    assert.ok(Date.now() - started < SESSION_TIMEOUT_MS + 6500 + SLACK_MS, `${Date.now() - started} ms`);
    harness.restore(hostOf(leaving.nodeId));
    brokers.delete(leaving.nodeId);
    await waitUntil(
      () => probe.describe(witness.bootstrap),
      (v) => !nodeIds(v.metadata).includes(leaving.nodeId),
      SESSION_TIMEOUT_MS + SLACK_MS,
      'the stopped broker leaves',
    );
  });

  it('two brokers started at once against a fresh etcd agree on one cluster id, and a data dir of another cluster is refused', async () => {
    const fresh = (await harness.startEtcd('etcd2')).endpoint;
    const options = { etcd: [fresh], sessionTimeoutMs: SESSION_TIMEOUT_MS };
    const [b4, b5] = await Promise.all([
      harness.startBroker('b4', { ...options, nodeId: 4 }),
      harness.startBroker('b5', { ...options, nodeId: 5 }),
    ]);
    const inEtcd = await probe.etcd([fresh]);
    assert.ok(inEtcd.clusterId);
    const original = await probe.etcd([etcd]);
    assert.notEqual(inEtcd.clusterId, original.clusterId, 'each etcd holds its own cluster');
    for (const broker of [b4, b5]) {
      const view = await probe.describe(broker.bootstrap);
      assert.equal(view.metadata.clusterId, inEtcd.clusterId);
      const meta = readFileSync(join(broker.dataDir, 'meta.properties'), 'utf8');
      assert.match(meta, new RegExp(`^cluster\\.id=${inEtcd.clusterId}$`, 'm'));
    }

    const foreign = tempDir('sluice-foreign-');
    writeFileSync(join(foreign, 'meta.properties'), `cluster.id=${original.clusterId}\nnode.id=6\nversion=1\n`);
    const refused = harness.startBroker('b6', { ...options, nodeId: 6, dataDir: foreign });
    await assert.rejects(refused, /exited before printing[\s\S]*belongs to cluster/);
  });

  it('a broker whose node.id a live broker holds gives up its start with the reason, leaving the holder registered', async () => {
    const current = await probe.etcd([etcd]);
    const holder = current.brokers[0];
    const started = Date.now();
    const duplicate = harness.startBroker('b6', {
      nodeId: holder.nodeId,
      etcd: [etcd],
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    });
    await assert.rejects(
      duplicate,
      new RegExp(`exited before printing[\\s\\S]*node\\.id ${holder.nodeId} is registered by another live broker`),
    );
    // The give-up time is the longer of 10 s and five session timeouts.
    assert.ok(Date.now() - started < 10_000 + SLACK_MS, `gave up after ${Date.now() - started} ms`);
    const after = await probe.etcd([etcd]);
    assert.equal(after.brokers.find((b) => b.nodeId === holder.nodeId)?.brokerEpoch, holder.brokerEpoch);
  });

  it('a broker that cannot reach etcd gives up its start with the reason instead of hanging', async () => {
    const nowhere = `${harness.host('client').address}:2379`;
    const unreachable = harness.startBroker('b6', { nodeId: 7, etcd: [nowhere], sessionTimeoutMs: 1000 });
    await assert.rejects(unreachable, /exited before printing[\s\S]*could not read the cluster id in etcd at/);
  });
});

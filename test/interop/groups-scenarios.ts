/**
 * The consumer-group scenarios every client goes through (see groups-*.test.ts). Each scenario starts
 * its own broker process, so the scenarios of all clients can run at the same time.
 */
import assert from 'node:assert/strict';
import { type BrokerProcess, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import {
  assertEachOnce,
  BROKER_OVERRIDES,
  Cluster,
  type ConsumerFactory,
  type ConsumerOptions,
  type ConsumerProcess,
  SESSION_TIMEOUT_MS,
  sleep,
  stopAll,
  waitForValues,
} from './groups-support.js';

/** What a scenario runs against. */
interface Scenario {
  broker: BrokerProcess;
  cluster: Cluster;
  consumers: ConsumerProcess[];
}

/**
 * Runs `body` against a broker process of its own and a connected admin cluster; whatever happens, then
 * stops every consumer it started, the cluster and the broker, and removes the broker's data.
 */
async function inScenario(body: (s: Scenario) => Promise<void>): Promise<void> {
  const broker = await startBrokerProcess({ overrides: BROKER_OVERRIDES });
  const s: Scenario = { broker, cluster: new Cluster(broker.bootstrap), consumers: [] };
  try {
    await s.cluster.connect();
    await body(s);
  } finally {
    await stopAll(s.consumers);
    await s.cluster.disconnect();
    await stopAndRemove(s.broker);
  }
}

/**
 * Three members of one group share a 6-partition topic: every record reaches exactly one of them. One
 * leaves properly and its partitions move to the other two; one is killed (no LeaveGroup) and its
 * partitions move to the last one once its session has timed out.
 */
export async function membersShareLeaveAndDie(
  factory: ConsumerFactory,
  tag: string,
  extra: Partial<ConsumerOptions> = {},
): Promise<void> {
  await inScenario(async ({ broker, cluster, consumers }) => {
    const topic = `${tag}-shared`;
    const groupId = `${tag}-group`;
    await cluster.createTopic(topic);
    const names = ['a', 'b', 'c'].map((n) => `${tag}-${n}`);
    for (const name of names) consumers.push(factory({ bootstrap: broker.bootstrap, groupId, topic, name, ...extra }));

    let owners = await cluster.waitForAssignment(groupId, topic, names);
    for (const name of names) assert.equal(owners.get(name)?.length, 2, `${name} owns two partitions`);
    const three = await cluster.produce(topic, `${tag}-three`, 60);
    await waitForValues(consumers, three);
    assertEachOnce(consumers, three, owners);

    await consumers[0].close();
    owners = await cluster.waitForAssignment(groupId, topic, names.slice(1));
    const two = await cluster.produce(topic, `${tag}-two`, 60);
    await waitForValues(consumers.slice(1), two);
    assertEachOnce(consumers.slice(1), two, owners);

    await consumers[1].kill();
    const killedAt = Date.now();
    owners = await cluster.waitForAssignment(groupId, topic, names.slice(2));
    const waited = Date.now() - killedAt;
    // The last heartbeat came at most heartbeat.interval.ms (1 s) before the kill.
    assert.ok(
      waited >= SESSION_TIMEOUT_MS - 1500,
      `partitions moved ${waited} ms after the kill, before the session timeout`,
    );
    const one = await cluster.produce(topic, `${tag}-one`, 60);
    await waitForValues([consumers[2]], one);
    assertEachOnce([consumers[2]], one, owners);
  });
}

/** Two groups subscribed to one topic each receive every record (publish-subscribe). */
export async function twoGroupsEachGetEverything(
  factory: ConsumerFactory,
  tag: string,
  extra: Partial<ConsumerOptions> = {},
): Promise<void> {
  await inScenario(async ({ broker, cluster, consumers }) => {
    const topic = `${tag}-pubsub`;
    await cluster.createTopic(topic);
    const groups = [`${tag}-left`, `${tag}-right`];
    for (const groupId of groups) {
      consumers.push(factory({ bootstrap: broker.bootstrap, groupId, topic, name: `${groupId}-0`, ...extra }));
    }
    await Promise.all(groups.map((groupId) => cluster.waitForAssignment(groupId, topic, [`${groupId}-0`])));
    const values = await cluster.produce(topic, `${tag}-pubsub`, 48);
    for (const c of consumers) {
      await waitForValues([c], values);
      assertEachOnce([c], values);
    }
  });
}

/**
 * A consumer commits what it read and stops; the broker restarts on the same data; a new consumer of the
 * group resumes after the committed offsets: it gets the new records and none of the old ones.
 */
export async function commitsSurviveRestart(
  factory: ConsumerFactory,
  tag: string,
  extra: Partial<ConsumerOptions> = {},
): Promise<void> {
  let broker = await startBrokerProcess({ overrides: BROKER_OVERRIDES });
  let cluster = new Cluster(broker.bootstrap);
  const consumers: ConsumerProcess[] = [];
  const topic = `${tag}-resume`;
  const groupId = `${tag}-resumers`;
  const committedTotal = async () => {
    const offsets = await cluster.fetchOffsets(groupId, topic);
    return offsets.reduce((sum, o) => sum + Math.max(0, o), 0);
  };
  try {
    await cluster.connect();
    await cluster.createTopic(topic);
    const before = await cluster.produce(topic, `${tag}-before`, 30);
    const first = factory({ bootstrap: broker.bootstrap, groupId, topic, name: `${tag}-first`, ...extra });
    consumers.push(first);
    await waitForValues([first], before);
    await first.close();
    assert.equal(await committedTotal(), 30, 'the first consumer committed everything it read');

    await cluster.disconnect();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir: broker.dataDir, port: broker.port, overrides: BROKER_OVERRIDES });
    cluster = new Cluster(broker.bootstrap);
    await cluster.connect();
    assert.equal(await committedTotal(), 30, 'the committed offsets survived the restart');

    const after = await cluster.produce(topic, `${tag}-after`, 30);
    const second = factory({ bootstrap: broker.bootstrap, groupId, topic, name: `${tag}-second`, ...extra });
    consumers.push(second);
    await waitForValues([second], after);
    await sleep(1000);
    const old = second.values.filter((v) => before.includes(v));
    assert.deepEqual(old, [], 'records before the committed offsets were not consumed again');
    assertEachOnce([second], after);
  } finally {
    await stopAll(consumers);
    await cluster.disconnect();
    await stopAndRemove(broker);
  }
}

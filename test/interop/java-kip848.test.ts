/**
 * KIP-848 consumer groups with the Java client (kafka-clients 4.3.1, group.protocol=consumer) against Sluice
 * and, as the baseline, Apache Kafka 4.3.1: three members share a 6-partition topic two partitions each
 * (uniform assignor); one leaves and its partitions move; one is killed (SIGKILL, in its own JVM) and its
 * partitions move after the session timeout; every record is consumed and committed exactly once across
 * both; a later member resumes from the committed offsets; Admin describes and lists the group as a
 * consumer-protocol group. test/clients/java-kip848/Kip848Scenario.java is compiled once per source into
 * the per-machine cache.
 */
import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, lastJson, run } from '../helpers/clients.js';
import { javaClasses, javacMissing } from '../helpers/java-classes.js';
import { kafkaClasspath, kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const SOURCE = join(REPO_ROOT, 'test', 'clients', 'java-kip848', 'Kip848Scenario.java');
const LOG4J = join(REPO_ROOT, 'test', 'clients', 'java', 'log4j2.properties');
const EXPECTED_CHECKS = 10;

/** Short session and heartbeat so the killed member is fenced within seconds, on both brokers. */
const GROUP_SETTINGS = {
  'group.consumer.session.timeout.ms': 6000,
  'group.consumer.heartbeat.interval.ms': 1000,
};
const KAFKA_MINIMUMS = {
  'group.consumer.min.session.timeout.ms': 6000,
  'group.consumer.min.heartbeat.interval.ms': 1000,
};

/** The classes of the scenario, compiled once per source and Kafka version. */
const scenarioClasses = () => javaClasses('java-kip848', SOURCE);

interface Summary {
  passed: number;
  failed: number;
  checks: Array<{ ok: boolean; name: string; detail?: string }>;
}

async function runScenario(bootstrap: string, label: string): Promise<void> {
  const classes = await scenarioClasses();
  const r = await run(
    'java',
    [
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${LOG4J}`,
      '-cp',
      `${classes}${delimiter}${kafkaClasspath()}`,
      'Kip848Scenario',
      bootstrap,
      label,
    ],
    { timeoutMs: 400_000 },
  );
  const summary = lastJson<Summary>(r);
  const failures = summary.checks.filter((c) => !c.ok).map((c) => `${c.name} # ${c.detail ?? ''}`);
  assert.deepEqual(failures, [], `failed checks:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.equal(summary.passed, EXPECTED_CHECKS, `every check ran:\n${r.stdout}`);
}

describe('KIP-848 consumer groups with the Java client (group.protocol=consumer)', { concurrency: true }, () => {
  test('against Sluice', { timeout: 450_000 }, async (t) => {
    if (kafkaPeerOrSkip(t) || clientOrSkip(t, javacMissing())) return;
    const [broker] = await Promise.all([startBrokerProcess({ overrides: GROUP_SETTINGS }), scenarioClasses()]);
    t.after(() => stopAndRemove(broker));
    await runScenario(broker.bootstrap, 'sluice');
  });

  test('against Apache Kafka (the same checks pass on the reference broker)', { timeout: 450_000 }, async (t) => {
    if (kafkaPeerOrSkip(t) || clientOrSkip(t, javacMissing())) return;
    const [peer] = await Promise.all([
      startKafkaPeer({ overrides: { ...KAFKA_MINIMUMS, ...GROUP_SETTINGS } }),
      scenarioClasses(),
    ]);
    t.after(() => peer.stop());
    await runScenario(peer.bootstrap, 'kafka');
  });
});

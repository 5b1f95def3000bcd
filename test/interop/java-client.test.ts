/**
 * The Apache Kafka Java client (kafka-clients 4.3.1, the jars of the Kafka peer) through the interop scenario,
 * against Sluice and, as the baseline that keeps the scenario honest, against Apache Kafka:
 * - clients: metadata, keyed acks=all produce with headers, a classic consumer group consuming exactly once
 *   in per-key order, commit and resume, every codec, offsets by timestamp, delete;
 * - admin: every Admin call Sluice serves (with its error answers), and UnsupportedVersionException for the
 *   calls it does not serve;
 * - idempotence: a producer with default settings (idempotence on since kafka-clients 3.0) delivers.
 * test/clients/java/Scenario.java is compiled once per source version into the per-machine cache, and run
 * in one JVM per group. Each group must pass every check, and exactly as many as expected, so a check that
 * silently stops running fails the test.
 */
import assert from 'node:assert/strict';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, lastJson, run } from '../helpers/clients.js';
import { javaClasses, javacMissing } from '../helpers/java-classes.js';
import { kafkaClasspath, kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const SOURCE_DIR = join(REPO_ROOT, 'test', 'clients', 'java');

/** The checks each group runs; the same count on both brokers. */
const EXPECTED_CHECKS = { clients: 42, admin: 70, idempotence: 3 } as const;
type Group = keyof typeof EXPECTED_CHECKS;

interface Summary {
  passed: number;
  failed: number;
  checks: Array<{ ok: boolean; name: string; detail?: string }>;
}

/** The classes of the scenario, compiled once per source and Kafka version. */
const scenarioClasses = () => javaClasses('java-scenario', join(SOURCE_DIR, 'Scenario.java'));

async function runGroup(bootstrap: string, broker: 'sluice' | 'kafka', group: Group): Promise<void> {
  const classes = await scenarioClasses();
  const r = await run(
    'java',
    [
      // A short-lived client JVM: quick start-up matters more than peak speed.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${join(SOURCE_DIR, 'log4j2.properties')}`,
      '-cp',
      `${classes}${delimiter}${kafkaClasspath()}`,
      'Scenario',
      bootstrap,
      broker,
      group,
    ],
    { timeoutMs: 180_000 },
  );
  const summary = lastJson<Summary>(r);
  const failures = summary.checks.filter((c) => !c.ok).map((c) => `${c.name} # ${c.detail ?? ''}`);
  assert.deepEqual(failures, [], `failed checks:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.equal(summary.passed, EXPECTED_CHECKS[group], `every check of ${group} ran:\n${r.stdout}`);
  assert.equal(r.code, 0);
}

describe('the Java client (kafka-clients 4.3.1) runs the interop scenario', { concurrency: true }, () => {
  test('against Sluice', { timeout: 300_000 }, async (t) => {
    if (kafkaPeerOrSkip(t) || clientOrSkip(t, javacMissing())) return;
    const [broker] = await Promise.all([
      startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } }),
      scenarioClasses(),
    ]);
    t.after(() => stopAndRemove(broker));
    await t.test('clients: produce, group consume, commit and resume, codecs, offsets by time', () =>
      runGroup(broker.bootstrap, 'sluice', 'clients'),
    );
    await t.test('admin: every call Sluice serves, and UnsupportedVersionException for the others', () =>
      runGroup(broker.bootstrap, 'sluice', 'admin'),
    );
    // Before Sluice served InitProducerId, this producer failed with UnsupportedVersionException (INIT_PRODUCER_ID).
    await t.test('idempotence: a default producer delivers', () => runGroup(broker.bootstrap, 'sluice', 'idempotence'));
  });

  test('against Apache Kafka (the same checks pass on the reference broker)', { timeout: 300_000 }, async (t) => {
    if (kafkaPeerOrSkip(t) || clientOrSkip(t, javacMissing())) return;
    const [peer] = await Promise.all([startKafkaPeer(), scenarioClasses()]);
    t.after(() => peer.stop());
    await t.test('clients', () => runGroup(peer.bootstrap, 'kafka', 'clients'));
    await t.test('admin', () => runGroup(peer.bootstrap, 'kafka', 'admin'));
    await t.test('idempotence: a default producer delivers', () => runGroup(peer.bootstrap, 'kafka', 'idempotence'));
  });
});

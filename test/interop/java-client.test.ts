/**
 * The Apache Kafka Java client (kafka-clients 4.3.1, the jars of the Kafka peer) through the interop scenario,
 * against Sluice and, as the baseline that keeps the scenario honest, against Apache Kafka:
 * - clients: metadata, keyed acks=all produce with headers, a classic consumer group consuming exactly once
 *   in per-key order, commit and resume, every codec, offsets by timestamp, delete;
 * - admin: every Admin call Sluice serves (with its error answers), and UnsupportedVersionException for the
 *   calls it does not serve;
 * - idempotence: a producer with default settings, which fails on Sluice until issue #12.
 * test/clients/java/Scenario.java is compiled once per source version into the per-machine cache, and run
 * in one JVM per group. Each group must pass every check, and exactly as many as expected, so a check that
 * silently stops running fails the test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, lastJson, run } from '../helpers/clients.js';
import { KAFKA_PEER_VERSION, kafkaClasspath, kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const execFileAsync = promisify(execFile);
const SOURCE_DIR = join(REPO_ROOT, 'test', 'clients', 'java');

/** The checks each group runs; the same count on both brokers. */
const EXPECTED_CHECKS = { clients: 42, admin: 70, idempotence: 3 } as const;
type Group = keyof typeof EXPECTED_CHECKS;

interface Summary {
  passed: number;
  failed: number;
  checks: Array<{ ok: boolean; name: string; detail?: string }>;
}

let compiled: Promise<string> | undefined;

/** Compiles Scenario.java once per source and Kafka version into the cache; resolves to the classes directory. */
function scenarioClasses(): Promise<string> {
  compiled ??= (async () => {
    const source = readFileSync(join(SOURCE_DIR, 'Scenario.java'));
    const hash = createHash('sha256').update(KAFKA_PEER_VERSION).update(source).digest('hex').slice(0, 12);
    const cache = process.env.SLUICE_CLIENTS_CACHE ?? join(homedir(), '.cache', 'sluice');
    const classes = join(cache, `java-scenario-${hash}`);
    if (existsSync(join(classes, 'Scenario.class'))) return classes;
    // Compiled beside the final name and renamed, so a concurrent run never sees half the classes.
    const partial = `${classes}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    await execFileAsync('javac', [
      '-nowarn',
      '-cp',
      kafkaClasspath(),
      '-d',
      partial,
      join(SOURCE_DIR, 'Scenario.java'),
    ]);
    try {
      renameSync(partial, classes);
    } catch (err) {
      // Another run finished first with the same source: use its classes.
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(classes, 'Scenario.class'))) throw err;
    }
    return classes;
  })();
  return compiled;
}

function javacMissing(): string | null {
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, 'javac')));
  return found ? null : 'javac is not installed (a JDK is needed to compile test/clients/java)';
}

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
    // Until issue #12: a default (idempotent) producer fails with UnsupportedVersionException (INIT_PRODUCER_ID).
    await t.test('idempotence: a default producer fails until Sluice serves InitProducerId', () =>
      runGroup(broker.bootstrap, 'sluice', 'idempotence'),
    );
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

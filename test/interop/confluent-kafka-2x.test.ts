/**
 * Today's confluent-kafka-python (2.16 from PyPI, with its bundled librdkafka 2.16) through the interop
 * scenario — metadata, create topics, 1000 keyed acks=all records, a group that consumes them exactly once
 * and resumes from its commits, every codec, offsets by timestamp, delete — against Sluice and, as the
 * baseline that keeps the scenario honest, against Apache Kafka. librdkafka ≥ 2.12 sends Metadata v12
 * with bytes after its last field: before Sluice ignored them as Kafka does, this client could not connect.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, lastJson, pypiClientsPython, run } from '../helpers/clients.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const SCENARIO = join(REPO_ROOT, 'test', 'clients', 'python', 'confluent_scenario.py');
const CHECKS = 17;

interface Summary {
  passed: number;
  failed: number;
  failures: string[];
}

async function runScenario(python: string, bootstrap: string): Promise<Summary> {
  const r = await run(python, [SCENARIO, bootstrap, `ck2-${process.pid}`], { timeoutMs: 240_000 });
  const summary = lastJson<Summary>(r);
  assert.deepEqual(summary.failures, [], `failed checks:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.equal(summary.passed, CHECKS, `every check ran:\n${r.stdout}`);
  return summary;
}

describe('confluent-kafka-python 2.x (PyPI) runs the interop scenario', { concurrency: true }, () => {
  test('against Sluice', { timeout: 300_000 }, async (t) => {
    const python = pypiClientsPython();
    if (clientOrSkip(t, python ? null : 'confluent-kafka 2.x is not installed (run test/clients/install.sh)')) return;
    const broker = await startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } });
    t.after(() => stopAndRemove(broker));
    await runScenario(python!, broker.bootstrap);
  });

  test('against Apache Kafka (the same checks pass on the reference broker)', { timeout: 300_000 }, async (t) => {
    const python = pypiClientsPython();
    if (clientOrSkip(t, python ? null : 'confluent-kafka 2.x is not installed (run test/clients/install.sh)')) return;
    if (kafkaPeerOrSkip(t)) return;
    const peer = await startKafkaPeer();
    t.after(() => peer.stop());
    await runScenario(python!, peer.bootstrap);
  });
});

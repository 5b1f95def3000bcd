/**
 * KIP-848 consumer groups with librdkafka (confluent-kafka 2.16.1, group.protocol=consumer) against Sluice
 * and, as the baseline, Apache Kafka 4.3.1: three members get two of six partitions each, every record is
 * consumed and committed exactly once, and a leaving member's partitions move (test/clients/python-kip848).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, lastJson, pypiClientsPython, run } from '../helpers/clients.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const SCRIPT = join(REPO_ROOT, 'test', 'clients', 'python-kip848', 'kip848_scenario.py');
const EXPECTED_CHECKS = 5;

interface Summary {
  passed: number;
  checks: Array<{ ok: boolean; name: string; detail?: string }>;
}

async function runScenario(python: string, bootstrap: string): Promise<void> {
  const r = await run(python, [SCRIPT, bootstrap], { timeoutMs: 300_000 });
  const summary = lastJson<Summary>(r);
  const failures = summary.checks.filter((c) => !c.ok).map((c) => `${c.name} # ${c.detail ?? ''}`);
  assert.deepEqual(failures, [], `failed checks:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.equal(summary.passed, EXPECTED_CHECKS, `every check ran:\n${r.stdout}`);
}

function pythonMissing(): string | null {
  return pypiClientsPython() === null ? 'the confluent-kafka venv is not installed (test/clients/install.sh)' : null;
}

describe('KIP-848 consumer groups with librdkafka (group.protocol=consumer)', { concurrency: true }, () => {
  test('against Sluice', { timeout: 320_000 }, async (t) => {
    if (clientOrSkip(t, pythonMissing())) return;
    const broker = await startBrokerProcess({ overrides: { 'group.consumer.heartbeat.interval.ms': 1000 } });
    t.after(() => stopAndRemove(broker));
    await runScenario(pypiClientsPython()!, broker.bootstrap);
  });

  test('against Apache Kafka (the same checks pass on the reference broker)', { timeout: 320_000 }, async (t) => {
    if (kafkaPeerOrSkip(t) || clientOrSkip(t, pythonMissing())) return;
    const peer = await startKafkaPeer({
      overrides: { 'group.consumer.min.heartbeat.interval.ms': 1000, 'group.consumer.heartbeat.interval.ms': 1000 },
    });
    t.after(() => peer.stop());
    await runScenario(pypiClientsPython()!, peer.bootstrap);
  });
});

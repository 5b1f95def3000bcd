/**
 * Today's franz-go (kgo 1.22 for producing and group consuming, kadm 1.20 for administration) through the
 * interop scenario, against Sluice and, as the baseline that keeps the scenario honest, against Apache
 * Kafka. franz-go sends the newest versions it knows (OffsetFetch v9 among them: before Sluice decoded its
 * flexible form right, this client's groups never read their commits).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startBrokerProcess, stopAndRemove } from '../helpers/broker-process.js';
import { clientOrSkip, franzScenarioBinary, lastJson, run } from '../helpers/clients.js';
import { kafkaPeerOrSkip, startKafkaPeer } from '../helpers/kafka-peer.js';

const CHECKS = 17;
const MISSING = 'the franz-go scenario is not built (run test/clients/install.sh)';

interface Summary {
  passed: number;
  failed: number;
  failures: string[];
}

async function runScenario(bin: string, bootstrap: string): Promise<void> {
  const r = await run(bin, [bootstrap, `franz-${process.pid}`], { timeoutMs: 240_000 });
  const summary = lastJson<Summary>(r);
  assert.deepEqual(summary.failures, [], `failed checks:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  assert.equal(summary.passed, CHECKS, `every check ran:\n${r.stdout}`);
}

/** franz-go's default producer (idempotent writes on) against a broker: what a default user meets. */
async function defaultProducer(bin: string, bootstrap: string): Promise<{ ok: boolean; error?: string }> {
  return lastJson(
    await run(bin, [bootstrap, `franz-default-${process.pid}`, 'default-producer'], { timeoutMs: 60_000 }),
  );
}

describe('franz-go runs the interop scenario', { concurrency: true }, () => {
  test('against Sluice', { timeout: 300_000 }, async (t) => {
    const bin = franzScenarioBinary();
    if (clientOrSkip(t, bin ? null : MISSING)) return;
    const broker = await startBrokerProcess({ overrides: { 'group.initial.rebalance.delay.ms': 0 } });
    t.after(() => stopAndRemove(broker));
    await runScenario(bin!, broker.bootstrap);
    // franz-go turns idempotence off by itself when the broker does not serve InitProducerId, so its
    // defaults work even before Sluice serves idempotent producers.
    assert.deepEqual(await defaultProducer(bin!, broker.bootstrap), { ok: true });
  });

  test('against Apache Kafka (the same checks pass on the reference broker)', { timeout: 300_000 }, async (t) => {
    const bin = franzScenarioBinary();
    if (clientOrSkip(t, bin ? null : MISSING)) return;
    if (kafkaPeerOrSkip(t)) return;
    const peer = await startKafkaPeer();
    t.after(() => peer.stop());
    await runScenario(bin!, peer.bootstrap);
    assert.deepEqual(await defaultProducer(bin!, peer.bootstrap), { ok: true });
  });
});

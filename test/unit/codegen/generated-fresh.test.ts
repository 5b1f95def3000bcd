import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generate, writeGenerated } from '../../../tools/codegen/generate.js';

// This file runs as dist/test/unit/codegen/generated-fresh.test.js, four folders below the repository root.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const specDir = process.env.KAFKA_SPEC_DIR || resolve(repoRoot, '../shared/kafka-protocol/messages');
const committedDir = join(repoRoot, 'src/protocol/generated');

test('the committed generated codecs are exactly what the generator makes from the message definitions', (t) => {
  if (!existsSync(specDir)) {
    t.skip(`Kafka spec folder not found at ${specDir}; set KAFKA_SPEC_DIR`);
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-codegen-'));
  try {
    writeGenerated(specDir, tmp);
    const fresh = readdirSync(tmp).sort();
    const committed = readdirSync(committedDir)
      .filter((f) => f.endsWith('.ts'))
      .sort();
    assert.deepEqual(committed, fresh, 'the generated file list differs: run `npm run codegen`');
    for (const name of fresh) {
      const same = readFileSync(join(tmp, name)).equals(readFileSync(join(committedDir, name)));
      assert.ok(same, `src/protocol/generated/${name} is stale or edited by hand: run \`npm run codegen\``);
    }
    // A second run must give the same bytes, or freshness would depend on luck.
    for (const [name, content] of generate(specDir)) {
      assert.equal(content, readFileSync(join(tmp, name), 'utf8'), `${name} differs between two runs`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

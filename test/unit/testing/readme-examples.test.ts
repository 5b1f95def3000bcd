/**
 * The README's embedding examples, run as written: every fenced `js` block importing from 'sluice' is
 * written into the package folder (so `import 'sluice'` resolves to this package) and run with the runner
 * its first line names.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../../helpers/broker-process.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .filter((b) => b.includes("from 'sluice'"));
const dir = join(REPO_ROOT, '.readme-examples');

after(() => rmSync(dir, { recursive: true, force: true }));

test('the README has a node:test and a vitest example of startBroker', () => {
  assert.equal(blocks.length, 2);
  assert.match(blocks[0], /run with: node --test/);
  assert.match(blocks[1], /run with: npx vitest run/);
});

for (const block of blocks) {
  const file = /^\/\/ (\S+)/.exec(block)?.[1] ?? 'example.test.mjs';
  test(`README example ${file} passes`, { timeout: 120_000 }, () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), block);
    const vitest = block.includes('npx vitest run');
    // A child `node --test` inside this test run would otherwise report to this runner, not to stdout.
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
    delete env.NODE_TEST_CONTEXT;
    const r = vitest
      ? spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'vitest'), ['run', '--root', dir, file], {
          encoding: 'utf8',
          cwd: dir,
          env,
        })
      : spawnSync(process.execPath, ['--test', join(dir, file)], { encoding: 'utf8', cwd: dir, env });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, vitest ? /2 passed/ : /# pass 2/);
  });
}

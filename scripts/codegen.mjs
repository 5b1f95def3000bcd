#!/usr/bin/env node
// Regenerates src/protocol/generated/ from Kafka's message definitions (`npm run codegen`).
// usage: node scripts/codegen.mjs [--spec <dir>] [<out-dir>]
// The generator is TypeScript (tools/codegen/); it is compiled first when dist/ lacks it or is older.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = join(root, 'dist/tools/codegen/main.js');
const sources = join(root, 'tools/codegen');
// tsc's incremental build leaves unchanged outputs untouched, so freshness is judged by a stamp written here.
const stamp = join(root, 'dist/tools/codegen/.compiled');

function isStale() {
  if (!existsSync(compiled) || !existsSync(stamp)) return true;
  const builtAt = statSync(stamp).mtimeMs;
  return readdirSync(sources).some((f) => f.endsWith('.ts') && statSync(join(sources, f)).mtimeMs > builtAt);
}

if (isStale()) {
  console.log('codegen: compiling the generator (tsc -p tsconfig.json)');
  // Errors elsewhere in the project do not stop tsc from emitting the generator, so only its absence is fatal.
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  if (!existsSync(compiled)) {
    console.error(`codegen: ${compiled} is still missing after tsc; see the errors above`);
    process.exit(1);
  }
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

const r = spawnSync(process.execPath, [compiled, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

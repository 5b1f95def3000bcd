#!/usr/bin/env node
// The `sluice` command. The TypeScript sources are compiled to dist/ by `npm install` (the prepare script).
import { existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';

if (process.argv[2] === 'start') {
  // A broker's old generation is small (about 10 MB) while it allocates fast. Once V8 has grown the young
  // generation to its 16 MiB maximum, the old generation's headroom stays below that size, and V8 answers
  // with a full mark-compact every few tens of milliseconds: about 40 % of the broker's CPU under produce
  // load. Keeping the young generation at its first size (1 MiB semi-spaces) stops that. This must run
  // before the broker's code loads, since loading it is what grows the young generation.
  setFlagsFromString('--semi-space-growth-factor=1');
}

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('sluice: dist/ is missing; run `npm install` (or `npm run build`) in the sluice folder first');
  process.exit(1);
}
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));

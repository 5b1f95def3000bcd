// Regenerates src/protocol/generated/ from Kafka's message definitions.
// usage: node dist/tools/codegen/main.js [--spec <dir>] [<out-dir>]
// The spec folder is --spec, else $KAFKA_SPEC_DIR, else ../shared/kafka-protocol/messages beside the repository.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGenerated } from './generate.js';

// This file runs as dist/tools/codegen/main.js, three folders below the repository root.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export function defaultSpecDir(root: string = repoRoot): string {
  return process.env.KAFKA_SPEC_DIR || resolve(root, '../shared/kafka-protocol/messages');
}

function main(argv: string[]): number {
  let specDir = defaultSpecDir();
  let outDir = resolve(repoRoot, 'src/protocol/generated');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--spec') specDir = resolve(argv[++i] ?? '');
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node dist/tools/codegen/main.js [--spec <dir>] [<out-dir>]');
      return 0;
    } else outDir = resolve(argv[i]);
  }
  if (!existsSync(specDir)) {
    console.error(
      `codegen: Kafka's message definitions were not found at ${specDir}; pass --spec <dir> or set KAFKA_SPEC_DIR`,
    );
    return 2;
  }
  const { written, removed } = writeGenerated(specDir, outDir);
  console.log(`codegen: ${written.length} file(s) written, ${removed.length} removed, in ${outDir}`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}

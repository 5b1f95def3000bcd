import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  apiFileName,
  emitApiFile,
  emitApiKeysFile,
  emitIndexFile,
  emitMessageFile,
  emitSchemaFile,
  emitVersionTableFile,
  HEADER,
  kebabCase,
} from './emit-files.js';
import { buildMessage, type Message } from './model.js';
import { loadSpecs } from './spec.js';

function sameRange(a: Message['validVersions'], b: Message['validVersions']): boolean {
  return a.lo === b.lo && a.hi === b.hi;
}

/**
 * Every generated file, by file name, from the message definitions in `specDir`. The result depends
 * only on the definitions: files are read in name order and nothing else (time, paths) is emitted.
 */
export function generate(specDir: string): Map<string, string> {
  const messages = loadSpecs(specDir).map(buildMessage);

  const typeNames = new Map<string, string>();
  for (const m of messages) {
    for (const s of m.structs) {
      const other = typeNames.get(s.typeName);
      if (other !== undefined)
        throw new Error(`type name ${s.typeName} is generated for both ${other} and ${m.specName}`);
      typeNames.set(s.typeName, m.specName);
    }
  }

  const requests = new Map<number, Message>();
  const responses = new Map<number, Message>();
  const others: Message[] = [];
  for (const m of messages) {
    if (m.kind === 'request' || m.kind === 'response') {
      if (m.apiKey === null) throw new Error(`${m.specName} has no apiKey`);
      const byKey = m.kind === 'request' ? requests : responses;
      if (byKey.has(m.apiKey)) throw new Error(`two ${m.kind}s for api key ${m.apiKey}`);
      byKey.set(m.apiKey, m);
    } else {
      others.push(m);
    }
  }

  const files = new Map<string, string>();
  const keys = [...requests.keys()].sort((a, b) => a - b);
  for (const key of keys) {
    const request = requests.get(key) as Message;
    const response = responses.get(key);
    if (response === undefined) throw new Error(`${request.specName} has no response`);
    if (
      !sameRange(request.validVersions, response.validVersions) ||
      !sameRange(request.flexibleVersions, response.flexibleVersions)
    ) {
      throw new Error(`${request.specName} and ${response.specName} disagree on their versions`);
    }
    files.set(`${apiFileName(request)}.ts`, emitApiFile(request, response));
  }
  for (const key of responses.keys())
    if (!requests.has(key)) throw new Error(`api key ${key} has a response but no request`);
  for (const m of others) files.set(`${kebabCase(m.specName)}.ts`, emitMessageFile(m));
  const sortedRequests = keys.map((k) => requests.get(k) as Message);
  files.set('api-keys.ts', emitApiKeysFile(sortedRequests));
  files.set('index.ts', emitIndexFile(sortedRequests, others));
  files.set('schema.ts', emitSchemaFile(messages));
  files.set('version-table.ts', emitVersionTableFile(sortedRequests));
  return files;
}

/**
 * Writes the generated files into `outDir` and deletes generated files that are no longer produced
 * (files without the generated header are left alone). Returns what changed.
 */
export function writeGenerated(specDir: string, outDir: string): { written: string[]; removed: string[] } {
  const files = generate(specDir);
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const removed: string[] = [];
  for (const name of readdirSync(outDir).sort()) {
    if (!name.endsWith('.ts') || files.has(name)) continue;
    const path = join(outDir, name);
    if (readFileSync(path, 'utf8').startsWith(HEADER)) {
      rmSync(path);
      removed.push(name);
    }
  }
  for (const [name, content] of files) {
    const path = join(outDir, name);
    let current: string | null = null;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = null;
    }
    if (current === content) continue;
    writeFileSync(path, content);
    written.push(name);
  }
  return { written, removed };
}

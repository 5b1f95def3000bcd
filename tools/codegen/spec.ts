import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A field as written in Kafka's message definitions (only the keys the generator uses). */
export interface SpecField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  flexibleVersions?: string;
  default?: string | number | boolean;
  fields?: SpecField[];
}

export interface SpecStruct {
  name: string;
  versions: string;
  fields: SpecField[];
}

/** One JSON file of Kafka's message definitions. */
export interface SpecMessage {
  apiKey?: number;
  type: 'request' | 'response' | 'header' | 'data';
  name: string;
  validVersions: string;
  flexibleVersions: string;
  listeners?: string[];
  latestVersionUnstable?: boolean;
  fields: SpecField[];
  commonStructs?: SpecStruct[];
}

/** An inclusive version range; `hi` is Infinity for "N+", and the range is empty when lo > hi. */
export interface VersionRange {
  lo: number;
  hi: number;
}

export const NO_VERSIONS: VersionRange = { lo: 0, hi: -1 };

export function parseVersions(text: string | undefined, what: string): VersionRange {
  if (text === undefined || text === 'none') return NO_VERSIONS;
  const open = /^(\d+)\+$/.exec(text);
  if (open) return { lo: Number(open[1]), hi: Number.POSITIVE_INFINITY };
  const span = /^(\d+)-(\d+)$/.exec(text);
  if (span) return { lo: Number(span[1]), hi: Number(span[2]) };
  if (/^\d+$/.test(text)) return { lo: Number(text), hi: Number(text) };
  throw new Error(`${what}: cannot parse version range ${JSON.stringify(text)}`);
}

export function isEmpty(r: VersionRange): boolean {
  return r.lo > r.hi;
}

export function contains(r: VersionRange, v: number): boolean {
  return v >= r.lo && v <= r.hi;
}

/**
 * Removes `//` comments from Kafka's JSON-with-comments, leaving string contents alone (an `about`
 * may hold a URL).
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

/** Reads every `*.json` in `dir`, sorted by file name so the output never depends on the file system. */
export function loadSpecs(dir: string): SpecMessage[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no *.json message definitions in ${dir}`);
  return files.map((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    let parsed: SpecMessage;
    try {
      parsed = JSON.parse(stripJsonComments(text)) as SpecMessage;
    } catch (err) {
      throw new Error(`${f}: not valid JSON after removing comments: ${(err as Error).message}`);
    }
    if (`${parsed.name}.json` !== f) throw new Error(`${f}: declares name ${parsed.name}`);
    return parsed;
  });
}

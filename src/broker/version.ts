/** Sluice's version, from its package.json: for the start-up line and the sluice_build_info metric. */
import { readFile } from 'node:fs/promises';

let version: Promise<string> | undefined;

/** Read once; 'unknown' when package.json cannot be read (a bundled copy, say). */
export function sluiceVersion(): Promise<string> {
  // From dist/src/broker/ the package root is three folders up.
  version ??= readFile(new URL('../../../package.json', import.meta.url), 'utf8').then(
    (text) => String((JSON.parse(text) as { version?: unknown }).version ?? 'unknown'),
    () => 'unknown',
  );
  return version;
}

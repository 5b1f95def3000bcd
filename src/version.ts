/**
 * Sluice's own version, from package.json: what `sluice --version` prints and what a Sluice broker reports
 * as its read-only `sluice.version` broker config. Read once, when this module is first imported.
 */
import { readFileSync } from 'node:fs';

// Runs compiled, as dist/src/version.js: two folders below package.json.
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const SLUICE_VERSION: string = packageJson.version;

/** The read-only broker config by which a client can tell a Sluice broker (and its version) from others. */
export const SLUICE_VERSION_CONFIG = 'sluice.version';

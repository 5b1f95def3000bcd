/**
 * The top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), as a table.
 *
 *   node dist/bench/profile-summary.js FILE.cpuprofile [--top 25] [--skip-ms 0]
 *
 * Self time is the time a sample was taken inside the function itself. Functions are merged by name,
 * file and line, so the same function reached from different callers counts once. Shares are of the
 * busy time (everything but "(idle)").
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export function selfTimes(
  path: string,
  skipMs = 0,
  root = process.cwd(),
): { busyMs: number; totalMs: number; top: SelfTime[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, SelfTime>();
  let totalUs = 0;
  let idleUs = 0;
  let elapsedUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; it is charged to that sample.
    const dt = profile.timeDeltas[i] ?? 0;
    elapsedUs += dt;
    if (elapsedUs < skipMs * 1000) continue;
    const node = byId.get(profile.samples[i]);
    if (!node) continue;
    totalUs += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') idleUs += dt;
    let file = url;
    if (url.startsWith('file://')) file = relative(root, fileURLToPath(url));
    const where = file ? `${file}:${lineNumber + 1}` : '';
    const key = `${functionName}\0${where}`;
    let t = totals.get(key);
    if (!t) totals.set(key, (t = { name: functionName || '(anonymous)', where, ms: 0, share: 0 }));
    t.ms += dt / 1000;
  }
  const busyMs = (totalUs - idleUs) / 1000;
  const top = [...totals.values()]
    .filter((t) => t.name !== '(idle)')
    .sort((a, b) => b.ms - a.ms)
    .map((t) => ({ ...t, share: busyMs > 0 ? t.ms / busyMs : 0 }));
  return { busyMs, totalMs: totalUs / 1000, top };
}

/** The table; `skipMs` leaves out the first milliseconds of the profile (the broker's start-up). */
export function formatSelfTimes(path: string, topN = 25, skipMs = 0): string {
  const { busyMs, totalMs, top } = selfTimes(path, skipMs);
  const lines = [
    `${path}: ${(busyMs / 1000).toFixed(2)} s busy of ${(totalMs / 1000).toFixed(2)} s sampled (${((busyMs / Math.max(totalMs, 1)) * 100).toFixed(0)} %)`,
    'self ms   share  function  (file:line)',
  ];
  for (const t of top.slice(0, topN)) {
    lines.push(`${t.ms.toFixed(0).padStart(7)}  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.name}  ${t.where}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string' }, 'skip-ms': { type: 'string' } },
  });
  if (positionals.length === 0) {
    console.error('usage: node dist/bench/profile-summary.js FILE.cpuprofile [--top N] [--skip-ms MS]');
    process.exit(2);
  }
  for (const f of positionals)
    console.log(formatSelfTimes(f, Number(values.top ?? 25), Number(values['skip-ms'] ?? 0)));
}

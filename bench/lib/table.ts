/** Rows of the bench: runs → median and range, the ratio to a baseline of the same run, the target. */

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Row {
  section: string;
  name: string;
  unit: string;
  runs: number[];
  baseline?: { name: string; runs: number[] };
  target?: Target;
  /** The target applies to the ratio (Sluice ÷ a peer), not to the figure. */
  targetOnRatio?: boolean;
  /** Why the row has no figure (a tool missing). */
  notMeasured?: string;
  note?: string;
}

export interface RowResult extends Row {
  median: number | null;
  min: number | null;
  max: number | null;
  baselineMedian: number | null;
  /** median ÷ baseline median. */
  ratio: number | null;
  met: boolean | null;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function evaluate(row: Row): RowResult {
  const m = median(row.runs);
  const b = row.baseline ? median(row.baseline.runs) : null;
  // A baseline at or below zero (memory too small to see in RSS) gives no meaningful ratio.
  const ratio = m !== null && b !== null && b > 0 ? m / b : null;
  const judged = row.targetOnRatio ? ratio : m;
  return {
    ...row,
    median: m,
    min: row.runs.length ? Math.min(...row.runs) : null,
    max: row.runs.length ? Math.max(...row.runs) : null,
    baselineMedian: b,
    ratio,
    met:
      judged === null || !row.target
        ? null
        : row.target.op === '>='
          ? judged >= row.target.value
          : judged <= row.target.value,
  };
}

/** A figure with three significant digits, grouped for big numbers. */
export function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 100_000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function cells(r: RowResult): string[] {
  if (r.notMeasured) return [`${r.name} (${r.unit})`, 'not measured', '', '', '', '', ''];
  const range = r.min === null ? '—' : `${fmt(r.min)}–${fmt(r.max)}`;
  const baseline = r.baseline ? `${fmt(r.baselineMedian)} ${r.baseline.name}` : '—';
  const ratio = r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`;
  const target = r.target
    ? `${r.target.op === '>=' ? '≥' : '≤'} ${fmt(r.target.value)}${r.targetOnRatio ? '×' : ''}`
    : '';
  const met = r.met === null ? '' : r.met ? 'yes' : 'NO';
  return [`${r.name} (${r.unit})`, fmt(r.median), range, baseline, ratio, target, met];
}

const HEADER = ['metric', 'median', 'min–max', 'baseline (median, same run)', 'ratio', 'target', 'met'];

/** A plain-text table for the terminal. */
export function textTable(rows: RowResult[]): string {
  const all = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(cells(r)))].join('\n');
}

/** The same table in Markdown, columns padded as biome formats Markdown tables (for the README and bench/PERFORMANCE.md). */
export function markdownTable(rows: RowResult[]): string {
  const all = [HEADER, ...rows.map((r) => cells(r).map((c) => c.replace(/\|/g, '\\|')))];
  const widths = HEADER.map((_, i) => Math.max(3, ...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(HEADER), line(widths.map((w) => '-'.repeat(w))), ...all.slice(1).map(line)].join('\n');
}

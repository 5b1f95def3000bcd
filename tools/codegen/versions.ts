import type { Field, Message } from './model.js';
import { contains, isEmpty, type VersionRange } from './spec.js';

/**
 * How a field travels in a run of consecutive versions. `flexible: 'dyn'` marks a run that spans the
 * message's first flexible version and differs only by it: the generated code then asks its local
 * `flexible` instead of splitting the run.
 */
export interface FieldState {
  present: boolean;
  nullable: boolean;
  flexible: boolean | 'dyn';
}

export interface Interval {
  lo: number;
  hi: number;
  state: FieldState;
}

function sameState(a: FieldState, b: FieldState): boolean {
  return a.present === b.present && a.nullable === b.nullable && a.flexible === b.flexible;
}

function intersect(a: VersionRange, b: VersionRange): VersionRange {
  return { lo: Math.max(a.lo, b.lo), hi: Math.min(a.hi, b.hi) };
}

/**
 * Splits the versions from `lowest` upwards into runs where the field is encoded the same way, in
 * ascending order, the last one open-ended. `part` chooses the fixed part of the struct or its
 * tagged-field section.
 */
export function fieldIntervals(field: Field, message: Message, part: 'fixed' | 'tagged', lowest: number): Interval[] {
  const flexibleVersions = field.flexibleVersions ?? message.flexibleVersions;
  const presence =
    part === 'fixed'
      ? field.tag === null
        ? field.versions
        : { lo: 0, hi: -1 }
      : intersect(field.versions, field.taggedVersions);
  const points = new Set<number>([lowest]);
  for (const r of [presence, field.nullableVersions, flexibleVersions]) {
    if (isEmpty(r)) continue;
    if (r.lo > lowest) points.add(r.lo);
    if (r.hi !== Number.POSITIVE_INFINITY && r.hi + 1 > lowest) points.add(r.hi + 1);
  }
  const starts = [...points].sort((a, b) => a - b);
  const raw: Interval[] = starts.map((lo, i) => {
    const present = contains(presence, lo);
    const state: FieldState = present
      ? {
          present,
          nullable: contains(field.nullableVersions, lo),
          flexible: part === 'tagged' || contains(flexibleVersions, lo),
        }
      : { present, nullable: false, flexible: false };
    return { lo, hi: i + 1 < starts.length ? starts[i + 1] - 1 : Number.POSITIVE_INFINITY, state };
  });
  const merged: Interval[] = [];
  for (const iv of raw) {
    const last = merged[merged.length - 1];
    if (last && sameState(last.state, iv.state)) last.hi = iv.hi;
    else merged.push({ ...iv, state: { ...iv.state } });
  }
  // Join the runs just below and above the message's first flexible version when nothing else changes.
  const flexibleFrom = message.flexibleVersions.lo;
  if (part === 'fixed' && field.flexibleVersions === null && !isEmpty(message.flexibleVersions)) {
    for (let i = 0; i + 1 < merged.length; i++) {
      const a = merged[i];
      const b = merged[i + 1];
      if (
        a.state.present &&
        b.state.present &&
        a.state.nullable === b.state.nullable &&
        a.state.flexible === false &&
        b.state.flexible === true &&
        b.lo === flexibleFrom
      ) {
        merged.splice(i, 2, { lo: a.lo, hi: b.hi, state: { ...a.state, flexible: 'dyn' } });
        break;
      }
    }
  }
  return merged;
}

/** `version >= lo && version <= hi`, leaving out bounds implied by `lowest` or by earlier branches. */
export function versionCondition(lo: number, hi: number, lowest: number, upperImplied: boolean): string {
  const parts: string[] = [];
  if (lo > lowest) parts.push(`version >= ${lo}`);
  if (hi !== Number.POSITIVE_INFINITY && !upperImplied) parts.push(`version <= ${hi}`);
  return parts.join(' && ');
}

/** Kafka's notation for a range: `3+`, `0-7`, `5`. */
export function formatRange(r: VersionRange): string {
  if (r.hi === Number.POSITIVE_INFINITY) return `${r.lo}+`;
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

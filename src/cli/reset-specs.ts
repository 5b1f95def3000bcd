/**
 * The text forms `sluice group reset-offsets` shares with kafka-consumer-groups.sh: --to-datetime,
 * --by-duration, and the topic,partition,offset CSV of --export and --from-file.
 */
import { UsageError } from './args.js';

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * `2024-06-01T12:00:00.000`, with an optional zone (`Z`, `+02`, `+0200`, `+02:00`), as epoch milliseconds.
 * As in Kafka's tool, a time without a zone is UTC, not local time.
 */
export function parseDateTime(text: string, flag = '--to-datetime'): bigint {
  const m = DATETIME.exec(text.trim());
  if (!m)
    throw new UsageError(
      `${flag} expects YYYY-MM-DDTHH:mm:SS[.sss][zone], e.g. 2024-06-01T12:00:00.000Z, got "${text}"`,
    );
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const millis = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const back = new Date(utc);
  // Date.UTC rolls 2024-02-30 over to March; a date that does not survive the round trip is not a date.
  if (
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  )
    throw new UsageError(`${flag}: "${text}" is not a valid date and time`);
  return BigInt(utc - zoneOffsetMinutes(m[8]) * 60_000);
}

function zoneOffsetMinutes(zone: string | undefined): number {
  if (!zone || zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

const DURATION = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{1,9}))?S)?)?$/i;

/**
 * An ISO-8601 duration in the form Java's Duration.parse takes (`PnDTnHnMn.nS`, e.g. `PT30M`, `P1DT2H`), as
 * milliseconds. Years, months and weeks are refused, as Java refuses them.
 */
export function parseDuration(text: string, flag = '--by-duration'): bigint {
  const m = DURATION.exec(text.trim());
  // "P" alone and "P1DT" (a T with nothing after it) match the pattern but are not durations.
  if (!m || m.slice(2, 6).every((g) => g === undefined) || /T$/i.test(text.trim()))
    throw new UsageError(`${flag} expects an ISO-8601 duration PnDTnHnMnS, e.g. PT30M or P1DT12H, got "${text}"`);
  const [, sign, days, hours, minutes, seconds, fraction] = m;
  const part = (v: string | undefined) => BigInt(v ?? '0');
  let ms = part(days) * 86_400_000n + part(hours) * 3_600_000n + part(minutes) * 60_000n + part(seconds) * 1000n;
  if (fraction) {
    const frac = BigInt(fraction.padEnd(9, '0').slice(0, 3));
    ms += seconds?.startsWith('-') ? -frac : frac;
  }
  return sign === '-' ? -ms : ms;
}

export interface PlannedOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/**
 * The rows of a reset plan file for `group`: `topic,partition,offset` lines, or `group,topic,partition,offset`
 * lines (the form kafka-consumer-groups.sh exports for several groups), of which those of `group` are kept.
 */
export function parseResetPlan(csv: string, group: string, file: string): PlannedOffset[] {
  const out: PlannedOffset[] = [];
  const lines = csv.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length === 4) {
      if (fields[0] !== group) return;
      fields.shift();
    }
    const [topic, partition, offset] = fields;
    if (fields.length !== 3 || topic === '' || !/^\d+$/.test(partition) || !/^\d+$/.test(offset))
      throw new UsageError(`${file}:${i + 1}: expected topic,partition,offset, got "${line}"`);
    out.push({ topic, partition: Number(partition), offset: BigInt(offset) });
  });
  if (out.length === 0) throw new UsageError(`${file}: no offsets for group "${group}"`);
  return out;
}

/** The plan as kafka-consumer-groups.sh --export writes it for one group: `topic,partition,offset` lines. */
export function formatResetPlan(plan: PlannedOffset[]): string {
  return plan.map((p) => `${p.topic},${p.partition},${p.offset}\n`).join('');
}

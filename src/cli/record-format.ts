/**
 * How `sluice consume` prints a record: the value per line (text), one JSON object per line (json), or a
 * format string with kcat's tokens, so that `-f '%k %s\n'` works as an operator typed it for kcat.
 */
import type { ConsumedRecord } from '../client/consumer.js';
import { toJson, UsageError } from './args.js';

export type RecordPrinter = (record: ConsumedRecord) => Buffer;

export const FORMAT_TOKENS_HELP = `format tokens (kcat's; no newline is added, end the format with \\n):
  %t topic   %p partition   %o offset   %T timestamp (ms)   %k key   %s or %v value
  %K key length and %S value length (-1 for null)   %h headers as k=v,k2=v2 (NULL for a null value)
  %R value length as a 4-byte big-endian integer   %% a percent sign   \\n \\r \\t \\\\ \\xHH escapes`;

type Part = Buffer | ((r: ConsumedRecord) => Buffer | string);

const NULL_HEADER = 'NULL';

const TOKENS: Record<string, (r: ConsumedRecord) => Buffer | string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => r.offset.toString(),
  T: (r) => r.timestamp.toString(),
  k: (r) => r.key ?? '',
  K: (r) => String(r.key?.length ?? -1),
  s: (r) => r.value ?? '',
  v: (r) => r.value ?? '',
  S: (r) => String(r.value?.length ?? -1),
  R: (r) => {
    const length = Buffer.alloc(4);
    length.writeInt32BE(r.value?.length ?? -1);
    return length;
  },
  h: (r) => {
    const pairs: Buffer[] = [];
    r.headers.forEach((h, i) => {
      pairs.push(Buffer.from(`${i > 0 ? ',' : ''}${h.key}=`), h.value ?? Buffer.from(NULL_HEADER));
    });
    return Buffer.concat(pairs);
  },
};

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/** Compiles a kcat-style format string once; unknown tokens are usage errors, as in kcat. */
export function compileFormat(format: string): RecordPrinter {
  const parts: Part[] = [];
  // Literal text between tokens, as bytes: \xHH is one byte, other characters are UTF-8.
  let literal: Buffer[] = [];
  let text = '';
  const endText = () => {
    if (text) literal.push(Buffer.from(text));
    text = '';
  };
  const endLiteral = () => {
    endText();
    if (literal.length > 0) parts.push(Buffer.concat(literal));
    literal = [];
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '%') {
      const token = format[++i];
      if (token === '%') text += '%';
      else if (token !== undefined && Object.hasOwn(TOKENS, token)) {
        endLiteral();
        parts.push(TOKENS[token]);
      } else {
        throw new UsageError(`--format: unknown token %${token ?? ''}; use %t %p %o %T %k %K %s %v %S %R %h or %%`);
      }
    } else if (c === '\\' && i + 1 < format.length) {
      const e = format[++i];
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(format.slice(i + 1, i + 3))) {
        endText();
        literal.push(Buffer.from([Number.parseInt(format.slice(i + 1, i + 3), 16)]));
        i += 2;
      } else {
        text += ESCAPES[e] ?? `\\${e}`;
      }
    } else {
      text += c;
    }
  }
  endLiteral();
  return (r) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : toBuffer(p(r)))));
}

const toBuffer = (b: Buffer | string) => (typeof b === 'string' ? Buffer.from(b) : b);

/** The JSON line of a record: offsets and timestamps as JSON numbers, keys, values and headers as UTF-8 text. */
export function recordJson(r: ConsumedRecord): string {
  return toJson({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('utf8'),
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
  });
}

/**
 * The printer for consume's --format: text (the value, or key SEP value with --print-key), json, or a
 * format string (anything with a % in it).
 */
export function recordPrinter(format: string | undefined, printKey: boolean, keySeparator: string): RecordPrinter {
  if (format === 'json') return (r) => Buffer.from(`${recordJson(r)}\n`);
  if (format === undefined || format === 'text') {
    const newline = Buffer.from('\n');
    if (!printKey) return (r) => (r.value ? Buffer.concat([r.value, newline]) : newline);
    const separator = Buffer.from(keySeparator);
    return (r) => Buffer.concat([r.key ?? Buffer.alloc(0), separator, r.value ?? Buffer.alloc(0), newline]);
  }
  if (!format.includes('%'))
    throw new UsageError(
      `--format must be text, json or a format string with %-tokens like '%k %s\\n', got "${format}"`,
    );
  if (printKey) throw new UsageError('--print-key is for --format text; put %k in a format string instead');
  return compileFormat(format);
}

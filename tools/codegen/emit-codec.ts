import type { ElementType, Field, FieldType, Message, Primitive, Struct } from './model.js';
import { isEmpty } from './spec.js';
import { type FieldState, fieldIntervals, formatRange, type Interval, versionCondition } from './versions.js';

// Emits the TypeScript of one message: interfaces, default factories, decoders, encoders. Decoders and
// encoders are straight-line code per struct, branching on `version` where a field's encoding
// changes; nothing walks a schema at run time.

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval undefined ' +
    'r w version flexible msg'
  ).split(' '),
);

/** The local variable holding a field in generated functions; avoids keywords and the functions' own names. */
function localName(f: Field): string {
  return RESERVED.has(f.name) ? `${f.name}Value` : f.name;
}

/** A single-quoted TypeScript string literal. */
export function quote(s: string): string {
  return `'${s.replace(/[\\'\n\r\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

const TS_PRIMITIVE: Record<Primitive, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  uint32: 'number',
  int64: 'bigint',
  float64: 'number',
  string: 'string',
  bytes: 'Buffer',
  records: 'Buffer',
  uuid: 'string',
};

const isText = (p: Primitive): boolean => p === 'string' || p === 'bytes' || p === 'records';

function elementTsType(e: ElementType): string {
  return e.kind === 'struct' ? e.struct.typeName : TS_PRIMITIVE[e.primitive];
}

function isNullableType(f: Field): boolean {
  return !isEmpty(f.nullableVersions) || (f.type.kind === 'primitive' && f.type.primitive === 'records');
}

export function fieldTsType(f: Field): string {
  const base = f.type.kind === 'array' ? `${elementTsType(f.type.element)}[]` : elementTsType(f.type);
  return isNullableType(f) ? `${base} | null` : base;
}

export const defaultFactoryName = (s: Struct): string => `default${s.typeName}`;
const readerName = (s: Struct): string => (s === s.message.root ? 'decode' : 'read') + s.typeName;
const writerName = (s: Struct): string => (s === s.message.root ? 'encode' : 'write') + s.typeName;
const isDefaultName = (s: Struct): string => `isDefault${s.typeName}`;

/** The value of a type that has no explicit default: 0, 0n, false, '', an empty buffer, zero UUID, []. */
function zeroExpr(type: FieldType): string {
  if (type.kind === 'array') return '[]';
  if (type.kind === 'struct') return `${defaultFactoryName(type.struct)}()`;
  switch (type.primitive) {
    case 'bool':
      return 'false';
    case 'int64':
      return '0n';
    case 'string':
      return "''";
    case 'bytes':
    case 'records':
      return 'EMPTY_BUFFER';
    case 'uuid':
      return 'ZERO_UUID';
    default:
      return '0';
  }
}

export function defaultExpr(f: Field): string {
  const d = f.defaultValue;
  switch (d.kind) {
    case 'zero':
      return zeroExpr(f.type);
    case 'null':
      return 'null';
    case 'number':
      return String(d.value);
    case 'bigint':
      return `${d.value}n`;
    case 'bool':
      return String(d.value);
    case 'string':
      return quote(d.value);
  }
}

/** The default, or the type's zero when the default is null but this version cannot carry null. */
function nonNullDefaultExpr(f: Field): string {
  return f.defaultValue.kind === 'null' ? zeroExpr(f.type) : defaultExpr(f);
}

function minElementSize(e: ElementType, flexible: boolean): number {
  if (e.kind === 'struct') return 1;
  switch (e.primitive) {
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return flexible ? 1 : 2;
    case 'bytes':
    case 'records':
      return flexible ? 1 : 4;
    default:
      return 1;
  }
}

function pickFlexible(flexible: boolean | 'dyn', compact: string, classic: string): string {
  if (flexible === 'dyn') return `flexible ? ${compact} : ${classic}`;
  return flexible ? compact : classic;
}

function textMethod(p: Primitive, nullable: boolean, compact: boolean): string {
  const noun = p === 'string' ? 'String' : 'Bytes';
  if (compact) return nullable ? `compactNullable${noun}` : `compact${noun}`;
  return nullable ? `nullable${noun}` : noun.toLowerCase();
}

// ---------------------------------------------------------------------------------------------------
// Decoding

function readPrimitiveExpr(p: Primitive, state: FieldState, r: string): string {
  if (!isText(p)) return `${r}.${p}()`;
  return pickFlexible(
    state.flexible,
    `${r}.${textMethod(p, state.nullable, true)}()`,
    `${r}.${textMethod(p, state.nullable, false)}()`,
  );
}

function readScalarExpr(type: ElementType, state: FieldState, r: string): string {
  if (type.kind === 'primitive') return readPrimitiveExpr(type.primitive, state, r);
  const call = `${readerName(type.struct)}(${r}, version)`;
  return state.nullable ? `${r}.int8() < 0 ? null : ${call}` : call;
}

function arrayLengthExpr(e: ElementType, state: FieldState, r: string): string {
  const call = (compact: boolean): string => {
    const base = compact ? 'compactArrayLength' : 'arrayLength';
    const method = state.nullable ? (compact ? 'compactNullableArrayLength' : 'nullableArrayLength') : base;
    const size = minElementSize(e, compact);
    return `${r}.${method}(${size === 1 ? '' : size})`;
  };
  return pickFlexible(state.flexible, call(true), call(false));
}

function readArrayLines(e: ElementType, state: FieldState, r: string, target: string): string[] {
  const count = `_${target}Count`;
  const element = readScalarExpr(e, { present: true, nullable: false, flexible: state.flexible }, r);
  const fill = [`${target} = [];`, `for (let _i = 0; _i < ${count}; _i++) ${target}.push(${element});`];
  const lines = [`const ${count} = ${arrayLengthExpr(e, state, r)};`];
  if (!state.nullable) return [...lines, ...fill];
  return [...lines, `if (${count} < 0) {`, `  ${target} = null;`, '} else {', ...indent(fill), '}'];
}

/** Statements assigning the field's value for one state to `target`. */
function readStateLines(f: Field, state: FieldState, r: string, target: string): string[] {
  if (!state.present) return [`${target} = ${defaultExpr(f)};`];
  if (f.type.kind === 'array') return readArrayLines(f.type.element, state, r, target);
  return [`${target} = ${readScalarExpr(f.type, state, r)};`];
}

function decodeFixedField(m: Message, f: Field, lowest: number): string[] {
  const local = localName(f);
  const intervals = fieldIntervals(f, m, 'fixed', lowest);
  const branches = presentBranches(intervals, lowest, (iv) => readStateLines(f, iv.state, 'r', local));
  const covered = branches.length > 0 && branches[branches.length - 1].condition === '';
  if (f.type.kind !== 'array' && branches.length <= 1) {
    // One run reads the field; every other version takes the default.
    if (branches.length === 0) return [`const ${local} = ${defaultExpr(f)};`];
    const read = readScalarExpr(f.type, intervals.find((iv) => iv.state.present)?.state as FieldState, 'r');
    if (covered) return [`const ${local} = ${read};`];
    const wrapped = read.includes('?') ? `(${read})` : read;
    return [`const ${local} = ${branches[0].condition} ? ${wrapped} : ${defaultExpr(f)};`];
  }
  if (f.type.kind === 'array' && covered && branches.length === 1) {
    const state = intervals[0].state;
    if (!state.nullable) {
      const count = `_${local}Count`;
      const element = readScalarExpr(f.type.element, { present: true, nullable: false, flexible: state.flexible }, 'r');
      return [
        `const ${count} = ${arrayLengthExpr(f.type.element, state, 'r')};`,
        `const ${local}: ${fieldTsType(f)} = [];`,
        `for (let _i = 0; _i < ${count}; _i++) ${local}.push(${element});`,
      ];
    }
  }
  if (!covered) branches.push({ condition: '', lines: [`${local} = ${defaultExpr(f)};`] });
  return [`let ${local}: ${fieldTsType(f)};`, ...chain(branches)];
}

function decodeTaggedBranches(m: Message, f: Field, lowest: number): { condition: string; lines: string[] }[] {
  const local = localName(f);
  const tag = f.tag as number;
  const intervals = fieldIntervals(f, m, 'tagged', lowest);
  return intervals
    .filter((iv) => iv.state.present)
    .map((iv) => {
      const version = versionCondition(iv.lo, iv.hi, lowest, false);
      return {
        condition: version === '' ? `_tag === ${tag}` : `_tag === ${tag} && ${version}`,
        lines: ['const _t = r.sub(_size);', ...readStateLines(f, iv.state, '_t', local)],
      };
    });
}

function emitReader(s: Struct): string[] {
  const m = s.message;
  const lowest = m.validVersions.lo;
  const body: string[] = [];
  for (const f of s.fields) if (f.tag === null) body.push(...decodeFixedField(m, f, lowest));
  const tagged = taggedFields(s);
  for (const f of tagged) body.push(`let ${localName(f)}: ${fieldTsType(f)} = ${defaultExpr(f)};`);

  const flexibility = flexibilityOf(m);
  const flexibleLowest = Math.max(lowest, m.flexibleVersions.lo);
  if (flexibility !== 'never') {
    if (tagged.length === 0) {
      body.push(
        flexibility === 'always'
          ? 'const _unknown = r.taggedFields();'
          : 'const _unknown = flexible ? r.taggedFields() : undefined;',
      );
    } else {
      body.push('let _unknown: TaggedField[] | undefined;');
      const branches = tagged.flatMap((f) => decodeTaggedBranches(m, f, flexibleLowest));
      branches.push({ condition: '', lines: ['(_unknown ??= []).push({ tag: _tag, data: r.raw(_size) });'] });
      const loop = [
        'const _count = r.taggedFieldCount();',
        'for (let _f = 0; _f < _count; _f++) {',
        '  const _tag = r.uvarint();',
        '  const _size = r.uvarint();',
        ...indent(chain(branches, true)),
        '}',
      ];
      body.push(...(flexibility === 'always' ? loop : ['if (flexible) {', ...indent(loop), '}']));
    }
  }

  const properties = s.fields.map((f) => (localName(f) === f.name ? `${f.name},` : `${f.name}: ${localName(f)},`));
  if (flexibility === 'never') {
    body.push(...objectLiteral('return ', properties, ';'));
  } else {
    body.push(...objectLiteral(`const msg: ${s.typeName} = `, properties, ';'));
    body.push('if (_unknown !== undefined) msg._unknownTaggedFields = _unknown;', 'return msg;');
  }
  const exported = s === m.root ? 'export ' : '';
  return [
    `${exported}function ${readerName(s)}(r: Reader, version: number): ${s.typeName} {`,
    ...indent(withFlexibleLocal(m, body)),
    '}',
  ];
}

// ---------------------------------------------------------------------------------------------------
// Encoding

/** `value` with undefined (and null where this version cannot carry it) replaced by the default. */
function normalized(f: Field, state: FieldState, value: string): string {
  const d = defaultExpr(f);
  if (f.type.kind === 'primitive' && !isText(f.type.primitive)) return `${value} ?? ${d}`;
  if (!state.nullable) return `${value} ?? ${nonNullDefaultExpr(f)}`;
  return d === 'null' ? `${value} ?? null` : `${value} === undefined ? ${d} : ${value}`;
}

function writeElementLines(e: ElementType, state: FieldState, w: string, value: string): string[] {
  if (e.kind === 'struct') return [`${writerName(e.struct)}(${w}, version, ${value});`];
  const p = e.primitive;
  if (!isText(p)) return [`${w}.${p}(${value});`];
  const compact = `${w}.${textMethod(p, state.nullable, true)}(${value});`;
  const classic = `${w}.${textMethod(p, state.nullable, false)}(${value});`;
  if (state.flexible === 'dyn') return [`if (flexible) ${compact}`, `else ${classic}`];
  return [state.flexible ? compact : classic];
}

function writeArrayLengthLines(state: FieldState, w: string, n: string): string[] {
  const compact = `${w}.compactArrayLength(${n});`;
  const classic = `${w}.arrayLength(${n});`;
  if (state.flexible === 'dyn') return [`if (flexible) ${compact}`, `else ${classic}`];
  return [state.flexible ? compact : classic];
}

/**
 * Statements writing the field in one state. `value` is an expression for the field; when
 * `isNormalized` it is a local already known not to be undefined (a tagged field being written).
 */
function writeStateLines(f: Field, state: FieldState, w: string, value: string, isNormalized: boolean): string[] {
  const type = f.type;
  const temp = isNormalized ? value : `_${f.name}`;
  const declare = isNormalized ? [] : [`const ${temp} = ${normalized(f, state, value)};`];
  if (type.kind === 'array') {
    const element = writeElementLines(type.element, { ...state, nullable: false }, w, `${temp}[_i]`);
    const loop =
      element.length === 1
        ? [`for (let _i = 0; _i < ${temp}.length; _i++) ${element[0]}`]
        : [`for (let _i = 0; _i < ${temp}.length; _i++) {`, ...indent(element), '}'];
    const present = [...writeArrayLengthLines(state, w, `${temp}.length`), ...loop];
    if (!state.nullable) return [...declare, ...present];
    return [
      ...declare,
      `if (${temp} === null) {`,
      ...indent(writeArrayLengthLines(state, w, '-1')),
      '} else {',
      ...indent(present),
      '}',
    ];
  }
  if (type.kind === 'struct') {
    const write = (v: string): string => `${writerName(type.struct)}(${w}, version, ${v});`;
    if (!state.nullable) return [write(isNormalized ? value : normalized(f, state, value))];
    return [
      ...declare,
      `if (${temp} === null) {`,
      `  ${w}.int8(-1);`,
      '} else {',
      `  ${w}.int8(1);`,
      `  ${write(temp)}`,
      '}',
    ];
  }
  return writeElementLines(type, state, w, isNormalized ? value : normalized(f, state, value));
}

function encodeFixedField(m: Message, f: Field, lowest: number): string[] {
  const intervals = fieldIntervals(f, m, 'fixed', lowest);
  return chain(presentBranches(intervals, lowest, (iv) => writeStateLines(f, iv.state, 'w', `msg.${f.name}`, false)));
}

/** Branches for the runs where the field is present, highest first, for an if/else-if chain. */
function presentBranches(
  intervals: Interval[],
  lowest: number,
  lines: (iv: Interval) => string[],
): { condition: string; lines: string[] }[] {
  const branches: { condition: string; lines: string[] }[] = [];
  // A run's upper bound can be left out only when every version above it is taken by an earlier
  // branch: a field that is absent from some later version (OffsetFetch's Topics, v0-7 of 0-9) must
  // keep its bound, or the last branch would become an `else` that reads it in those versions too.
  let aboveAllPresent = true;
  for (let i = intervals.length - 1; i >= 0; i--) {
    const iv = intervals[i];
    if (!iv.state.present) {
      aboveAllPresent = false;
      continue;
    }
    const upperImplied = i + 1 < intervals.length && aboveAllPresent;
    branches.push({ condition: versionCondition(iv.lo, iv.hi, lowest, upperImplied), lines: lines(iv) });
  }
  return branches;
}

/** A JavaScript expression: is this tagged field's value (in local `v`) different from its default? */
function isSetExpr(f: Field, state: FieldState, v: string): string {
  const d = defaultExpr(f);
  const type = f.type;
  if (type.kind === 'struct')
    return d === 'null' ? `${v} != null` : `${v} != null && !${isDefaultName(type.struct)}(${v})`;
  const sized = type.kind === 'array' || type.primitive === 'bytes' || type.primitive === 'records';
  if (sized) {
    if (d === 'null') return `${v} != null`;
    return state.nullable
      ? `${v} === null || (${v} !== undefined && ${v}.length > 0)`
      : `${v} != null && ${v}.length > 0`;
  }
  if (type.primitive === 'string') {
    if (d === 'null') return `${v} != null`;
    return state.nullable ? `${v} !== undefined && ${v} !== ${d}` : `${v} != null && ${v} !== ${d}`;
  }
  if (type.primitive === 'uuid') return `${v} !== undefined && ${v} !== '' && ${v} !== ${d}`;
  return `${v} !== undefined && ${v} !== ${d}`;
}

function encodeTaggedField(m: Message, f: Field, lowest: number): string[] {
  const intervals = fieldIntervals(f, m, 'tagged', lowest);
  const temp = `_${f.name}`;
  return chain(
    presentBranches(intervals, lowest, (iv) => [
      `const ${temp} = msg.${f.name};`,
      `if (${isSetExpr(f, iv.state, temp)}) {`,
      '  const _t = new Writer(64);',
      ...indent(writeStateLines(f, iv.state, '_t', temp, true)),
      `  (_tagged ??= []).push({ tag: ${f.tag}, data: _t.toBuffer() });`,
      '}',
    ]),
  );
}

function emitWriter(s: Struct): string[] {
  const m = s.message;
  const lowest = m.validVersions.lo;
  const body: string[] = [];
  for (const f of s.fields) if (f.tag === null) body.push(...encodeFixedField(m, f, lowest));
  const flexibility = flexibilityOf(m);
  if (flexibility !== 'never') {
    const tagged = taggedFields(s);
    let section: string[];
    if (tagged.length === 0) {
      section = ['w.taggedFields(msg._unknownTaggedFields);'];
    } else {
      const flexibleLowest = Math.max(lowest, m.flexibleVersions.lo);
      section = [
        'let _tagged: TaggedField[] | undefined;',
        ...tagged.flatMap((f) => encodeTaggedField(m, f, flexibleLowest)),
        'w.taggedFields(msg._unknownTaggedFields, _tagged);',
      ];
    }
    if (flexibility === 'always') body.push(...section);
    else if (section.length === 1) body.push(`if (flexible) ${section[0]}`);
    else body.push('if (flexible) {', ...indent(section), '}');
  }
  const exported = s === m.root ? 'export ' : '';
  return [
    `${exported}function ${writerName(s)}(w: Writer, version: number, msg: ${s.typeName}): void {`,
    ...indent(withFlexibleLocal(m, body)),
    '}',
  ];
}

// ---------------------------------------------------------------------------------------------------
// Types, defaults, default checks

function fieldComment(f: Field): string {
  const parts = [isEmpty(f.versions) ? 'in no version' : `v${formatRange(f.versions)}`];
  if (!isEmpty(f.nullableVersions)) parts.push(`nullable v${formatRange(f.nullableVersions)}`);
  if (f.tag !== null) parts.push(`tag ${f.tag}`);
  return `/** ${parts.join(', ')} */`;
}

function emitInterface(s: Struct): string[] {
  const lines = [`export interface ${s.typeName} {`];
  for (const f of s.fields) lines.push(`  ${fieldComment(f)}`, `  ${f.name}: ${fieldTsType(f)};`);
  lines.push('  /** Tagged fields this code does not know, kept from decoding and written back on encoding. */');
  lines.push('  _unknownTaggedFields?: TaggedField[];', '}');
  return lines;
}

function emitDefaultFactory(s: Struct): string[] {
  const properties = s.fields.map((f) => `${f.name}: ${defaultExpr(f)},`);
  return [
    `export function ${defaultFactoryName(s)}(): ${s.typeName} {`,
    ...indent(objectLiteral('return ', properties, ';')),
    '}',
  ];
}

function isDefaultValueExpr(f: Field, v: string): string {
  const d = defaultExpr(f);
  const type = f.type;
  const neverNullable = isEmpty(f.nullableVersions);
  if (d === 'null') return `${v} == null`;
  if (type.kind === 'struct') return `(${v} == null || ${isDefaultName(type.struct)}(${v}))`;
  const sized = type.kind === 'array' || type.primitive === 'bytes' || type.primitive === 'records';
  if (sized)
    return neverNullable
      ? `(${v} == null || ${v}.length === 0)`
      : `(${v} !== null && (${v} === undefined || ${v}.length === 0))`;
  if (type.primitive === 'string' && neverNullable) return `(${v} == null || ${v} === ${d})`;
  if (type.primitive === 'uuid') return `(${v} === undefined || ${v} === '' || ${v} === ${d})`;
  return `(${v} === undefined || ${v} === ${d})`;
}

function emitIsDefault(s: Struct): string[] {
  const checks = s.fields.map((f) => isDefaultValueExpr(f, `s.${f.name}`));
  checks.push('(s._unknownTaggedFields === undefined || s._unknownTaggedFields.length === 0)');
  return [
    `function ${isDefaultName(s)}(s: ${s.typeName}): boolean {`,
    '  return (',
    ...checks.map((c, i) => `    ${c}${i < checks.length - 1 ? ' &&' : ''}`),
    '  );',
    '}',
  ];
}

/** Structs whose "is this the default?" check the encoders need: those of tagged struct fields, and theirs. */
function structsNeedingIsDefault(m: Message): Set<Struct> {
  const needed = new Set<Struct>();
  const visit = (s: Struct): void => {
    if (needed.has(s)) return;
    needed.add(s);
    for (const f of s.fields) if (f.type.kind === 'struct' && f.defaultValue.kind !== 'null') visit(f.type.struct);
  };
  for (const s of m.structs) {
    for (const f of s.fields) {
      if (f.tag !== null && f.type.kind === 'struct' && f.defaultValue.kind !== 'null') visit(f.type.struct);
    }
  }
  return needed;
}

// ---------------------------------------------------------------------------------------------------
// Layout helpers

export function indent(lines: string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

function objectLiteral(prefix: string, properties: string[], suffix: string): string[] {
  if (properties.length === 0) return [`${prefix}{}${suffix}`];
  return [`${prefix}{`, ...indent(properties), `}${suffix}`];
}

/**
 * An if / else-if / else chain. A branch with an empty condition is the final `else`. Unless
 * `forceBraces`, branches that are all one line long are written without braces.
 */
function chain(branches: { condition: string; lines: string[] }[], forceBraces = false): string[] {
  if (branches.length === 0) return [];
  if (branches.length === 1 && branches[0].condition === '') return branches[0].lines;
  const braceless = !forceBraces && branches.every((b) => b.lines.length === 1);
  const out: string[] = [];
  branches.forEach((b, i) => {
    const head = b.condition === '' ? 'else' : `${i === 0 ? '' : 'else '}if (${b.condition})`;
    if (braceless) {
      out.push(`${head} ${b.lines[0]}`);
    } else {
      out.push(`${i === 0 ? '' : '} '}${head} {`, ...indent(b.lines));
    }
  });
  if (!braceless) out.push('}');
  return out;
}

function taggedFields(s: Struct): Field[] {
  return s.fields.filter((f) => f.tag !== null).sort((a, b) => (a.tag as number) - (b.tag as number));
}

function flexibilityOf(m: Message): 'never' | 'always' | 'sometimes' {
  if (isEmpty(m.flexibleVersions)) return 'never';
  return m.flexibleVersions.lo <= m.validVersions.lo ? 'always' : 'sometimes';
}

function withFlexibleLocal(m: Message, body: string[]): string[] {
  if (!body.some((l) => /\bflexible\b/.test(l))) return body;
  return [`const flexible = version >= ${m.flexibleVersions.lo};`, ...body];
}

/** Everything one message contributes to its file, in reading order. */
export function emitMessage(m: Message): string[] {
  const sections: string[][] = [];
  for (const s of m.structs) sections.push(emitInterface(s));
  for (const s of m.structs) sections.push(emitDefaultFactory(s));
  for (const s of structsNeedingIsDefault(m)) sections.push(emitIsDefault(s));
  for (const s of m.structs) sections.push(emitReader(s));
  for (const s of m.structs) sections.push(emitWriter(s));
  return sections.flatMap((lines) => ['', ...lines]);
}

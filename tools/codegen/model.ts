import { isEmpty, NO_VERSIONS, parseVersions, type SpecField, type SpecMessage, type VersionRange } from './spec.js';

export type Primitive =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

const PRIMITIVES = new Set<string>([
  'bool',
  'int8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'float64',
  'string',
  'bytes',
  'records',
  'uuid',
]);

export type ElementType = { kind: 'primitive'; primitive: Primitive } | { kind: 'struct'; struct: Struct };
export type FieldType = ElementType | { kind: 'array'; element: ElementType };

/** A field's default as a value: numbers, bigints, booleans, strings, null, or the type's zero. */
export type DefaultValue =
  | { kind: 'zero' }
  | { kind: 'null' }
  | { kind: 'number'; value: number }
  | { kind: 'bigint'; value: bigint }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string };

export interface Field {
  /** Name in Kafka's definitions, e.g. `ThrottleTimeMs`. */
  specName: string;
  /** Property name in the generated interface, e.g. `throttleTimeMs`. */
  name: string;
  type: FieldType;
  versions: VersionRange;
  nullableVersions: VersionRange;
  /** Versions in which the field travels in the tagged-field section; empty for ordinary fields. */
  taggedVersions: VersionRange;
  tag: number | null;
  /** A field-level override of the message's flexible versions (only RequestHeader.ClientId has one). */
  flexibleVersions: VersionRange | null;
  defaultValue: DefaultValue;
}

export interface Struct {
  /** The TypeScript name, unique across all generated files. */
  typeName: string;
  /** Kafka's name of the struct (the message name for the top level). */
  specName: string;
  fields: Field[];
  message: Message;
}

export interface Message {
  specName: string;
  kind: SpecMessage['type'];
  apiKey: number | null;
  validVersions: VersionRange;
  flexibleVersions: VersionRange;
  listeners: string[];
  latestVersionUnstable: boolean;
  root: Struct;
  /** Every struct of the message, the top level first, then depth-first in definition order. */
  structs: Struct[];
}

/** `ThrottleTimeMs` → `throttleTimeMs`. */
export function propertyName(specName: string): string {
  return specName[0].toLowerCase() + specName.slice(1);
}

/**
 * The TypeScript name of a nested struct: Kafka's struct name prefixed by the message name, unless it
 * already starts with it (`MetadataResponseTopic` stays, FetchResponse's `PartitionData` becomes
 * `FetchResponsePartitionData`). Kafka keeps struct names unique within a message, so this is unique.
 */
export function nestedTypeName(messageName: string, structName: string): string {
  return structName.startsWith(messageName) ? structName : messageName + structName;
}

function parseDefault(field: SpecField, type: FieldType, where: string): DefaultValue {
  const raw = field.default;
  if (raw === undefined) return { kind: 'zero' };
  const text = String(raw);
  if (text === 'null') {
    if (isEmpty(parseVersions(field.nullableVersions, where)))
      throw new Error(`${where}: default null on a field that is never nullable`);
    return { kind: 'null' };
  }
  if (type.kind !== 'primitive') throw new Error(`${where}: only null can be the default of an array or struct`);
  const p = type.primitive;
  const integer = /^(-?)(0x[0-9a-fA-F]+|\d+)$/.exec(text);
  switch (p) {
    case 'bool':
      if (text !== 'true' && text !== 'false') throw new Error(`${where}: bad bool default ${text}`);
      return { kind: 'bool', value: text === 'true' };
    case 'int64': {
      if (!integer) throw new Error(`${where}: bad int64 default ${text}`);
      const magnitude = BigInt(integer[2]);
      return { kind: 'bigint', value: integer[1] === '-' ? -magnitude : magnitude };
    }
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      if (!integer) throw new Error(`${where}: bad ${p} default ${text}`);
      const magnitude = Number(integer[2]);
      return { kind: 'number', value: integer[1] === '-' ? -magnitude : magnitude };
    }
    case 'float64': {
      const value = Number(text);
      if (Number.isNaN(value)) throw new Error(`${where}: bad float64 default ${text}`);
      return { kind: 'number', value };
    }
    case 'string':
      return { kind: 'string', value: text };
    default:
      throw new Error(`${where}: a default for ${p} is not supported`);
  }
}

/** Builds the model of one message, resolving struct references (inline and `commonStructs`). */
export function buildMessage(spec: SpecMessage): Message {
  const validVersions = parseVersions(spec.validVersions, spec.name);
  const message: Message = {
    specName: spec.name,
    kind: spec.type,
    apiKey: spec.apiKey ?? null,
    validVersions,
    flexibleVersions: parseVersions(spec.flexibleVersions, spec.name),
    listeners: spec.listeners ?? [],
    latestVersionUnstable: spec.latestVersionUnstable === true,
    root: undefined as unknown as Struct,
    structs: [],
  };

  // Struct definitions by Kafka name: common structs up front, inline ones as they are met.
  const definitions = new Map<string, SpecField[]>();
  for (const common of spec.commonStructs ?? []) definitions.set(common.name, common.fields);
  const collectInline = (fields: SpecField[]): void => {
    for (const f of fields) {
      if (f.fields === undefined) continue;
      const name = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
      if (definitions.has(name)) throw new Error(`${spec.name}: struct ${name} is defined twice`);
      definitions.set(name, f.fields);
      collectInline(f.fields);
    }
  };
  collectInline(spec.fields);

  const built = new Map<string, Struct>();
  const buildStruct = (specName: string, typeName: string, fields: SpecField[]): Struct => {
    const struct: Struct = { typeName, specName, fields: [], message };
    built.set(specName, struct);
    message.structs.push(struct);
    for (const f of fields) struct.fields.push(buildField(f, `${spec.name}.${specName}.${f.name}`));
    return struct;
  };
  const structType = (name: string, where: string): Struct => {
    const existing = built.get(name);
    if (existing) return existing;
    const fields = definitions.get(name);
    if (fields === undefined) throw new Error(`${where}: unknown type ${name}`);
    return buildStruct(name, nestedTypeName(spec.name, name), fields);
  };
  const elementType = (name: string, where: string): ElementType =>
    PRIMITIVES.has(name)
      ? { kind: 'primitive', primitive: name as Primitive }
      : { kind: 'struct', struct: structType(name, where) };
  const buildField = (f: SpecField, where: string): Field => {
    const type: FieldType = f.type.startsWith('[]')
      ? { kind: 'array', element: elementType(f.type.slice(2), where) }
      : elementType(f.type, where);
    const taggedVersions = f.tag === undefined ? NO_VERSIONS : parseVersions(f.taggedVersions, where);
    if (f.tag !== undefined && isEmpty(taggedVersions)) throw new Error(`${where}: tag without taggedVersions`);
    return {
      specName: f.name,
      name: propertyName(f.name),
      type,
      versions: parseVersions(f.versions, where),
      nullableVersions: parseVersions(f.nullableVersions, where),
      taggedVersions,
      tag: f.tag ?? null,
      flexibleVersions: f.flexibleVersions === undefined ? null : parseVersions(f.flexibleVersions, where),
      defaultValue: parseDefault(f, type, where),
    };
  };

  message.root = buildStruct(spec.name, spec.name, spec.fields);
  for (const struct of message.structs) {
    const names = new Set<string>();
    for (const f of struct.fields) {
      if (names.has(f.name)) throw new Error(`${spec.name}.${struct.specName}: two fields named ${f.name}`);
      names.add(f.name);
    }
  }
  return message;
}

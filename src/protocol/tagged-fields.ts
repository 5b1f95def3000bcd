/**
 * A tagged field as it travels in a flexible version's tagged-field section: a tag number and the
 * field's encoded bytes. Decoders keep the tags they do not know in `_unknownTaggedFields`, so a
 * message decoded and encoded again loses nothing a newer peer added.
 */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

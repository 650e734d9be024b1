import * as Y from 'yjs';
import * as binary from 'lib0/binary';
import * as decoding from 'lib0/decoding';
import { AppError } from '@tandem/protocol';

/** An update as `Y.decodeUpdate` reads it (its structs and delete set). Read it; do not change it. */
export type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;

/**
 * A client's document update: its bytes (stored and relayed) and its decoded form (validators and
 * hooks), read on first use and only once. Reading throws BAD_INPUT unless Yjs can read the whole
 * update and every struct in it has a length: Yjs integrates an update struct by struct, so bytes
 * it cannot read late in the update (or an empty struct, which breaks its struct store for good)
 * would change the document before the error, for every later change and every load of the log.
 */
export class ClientUpdate {
  #decoded: DecodedUpdate | null = null;

  constructor(readonly bytes: Uint8Array) {}

  get decoded(): DecodedUpdate {
    this.#decoded ??= readWhole(this.bytes);
    return this.#decoded;
  }
}

function readWhole(bytes: Uint8Array): DecodedUpdate {
  let decoded: DecodedUpdate;
  try {
    decoded = Y.decodeUpdate(bytes);
  } catch (error) {
    throw new AppError('BAD_INPUT', 'Malformed message.', error instanceof Error ? error.message : String(error));
  }
  for (const struct of decoded.structs) {
    if (struct.length < 1) throw new AppError('BAD_INPUT', 'Malformed message.', `an empty struct of client ${struct.id.client}`);
  }
  return decoded;
}

/**
 * How many items (structs with content, not GC or skip ranges) an update carries, reading it only
 * until `limit` is passed: a bounded look at a possibly huge update before deciding to read it all
 * (Y.decodeUpdate's cost grows with its items). Follows Yjs's V1 struct format; throws BAD_INPUT
 * if the bytes do not parse.
 */
export function countItems(bytes: Uint8Array, limit: number): number {
  try {
    const decoder = new Y.UpdateDecoderV1(decoding.createDecoder(bytes));
    const rest = decoder.restDecoder;
    let items = 0;
    for (let clients = decoding.readVarUint(rest); clients > 0; clients--) {
      let structs = decoding.readVarUint(rest);
      decoder.readClient();
      decoding.readVarUint(rest); // first clock
      for (; structs > 0; structs--) {
        const info = decoder.readInfo();
        if (info === 10 || (info & binary.BITS5) === 0) {
          decoding.readVarUint(rest); // skip or GC: a length
          continue;
        }
        if (++items > limit) return items;
        if (info & binary.BIT8) decoder.readLeftID();
        if (info & binary.BIT7) decoder.readRightID();
        if ((info & (binary.BIT7 | binary.BIT8)) === 0) {
          if (decoder.readParentInfo()) decoder.readString();
          else decoder.readLeftID();
          if (info & binary.BIT6) decoder.readString();
        }
        skipContent(decoder, info & binary.BITS5);
      }
    }
    return items;
  } catch (error) {
    throw new AppError('BAD_INPUT', 'Malformed message.', error instanceof Error ? error.message : String(error));
  }
}

/**
 * An upper bound of the structs (so of the items) an update carries, read from its header alone
 * when all its structs are one client's (the usual case): O(1). Infinity when the header cannot
 * tell (several clients) or does not parse.
 */
export function structsBound(bytes: Uint8Array): number {
  try {
    const decoder = decoding.createDecoder(bytes);
    const clients = decoding.readVarUint(decoder);
    if (clients === 0) return 0;
    return clients === 1 ? decoding.readVarUint(decoder) : Infinity;
  } catch {
    return Infinity;
  }
}

/** Reads past one item's content (Yjs's contentRefs, by the low five bits of its info byte). */
function skipContent(decoder: Y.UpdateDecoderV1, ref: number): void {
  switch (ref) {
    case 1: // deleted
      decoder.readLen();
      return;
    case 2: // JSON
      for (let n = decoder.readLen(); n > 0; n--) decoder.readString();
      return;
    case 3: // binary
      decoder.readBuf();
      return;
    case 4: // string
      decoder.readString();
      return;
    case 5: // embed
      decoder.readJSON();
      return;
    case 6: // format
      decoder.readKey();
      decoder.readJSON();
      return;
    case 7: { // a nested type; XML elements and hooks carry a name
      const type = decoder.readTypeRef();
      if (type === 3 || type === 5) decoder.readKey();
      return;
    }
    case 8: // any
      for (let n = decoder.readLen(); n > 0; n--) decoder.readAny();
      return;
    case 9: // subdocument
      decoder.readString();
      decoder.readAny();
      return;
    default:
      throw new Error(`unknown content ${ref}`);
  }
}

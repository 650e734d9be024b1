import type { DeletionSpan } from './DocumentHistory.ts';

/**
 * A deletion batch's spans as one compact value: varints (count, then per span: client, from,
 * length), then the deleted text of every span in that order (UTF-8). Its deleter and time are
 * the row's columns.
 */
export function encodeDeletions(spans: readonly Pick<DeletionSpan, 'client' | 'from' | 'to' | 'text'>[]): Uint8Array<ArrayBuffer> {
  const head: number[] = [];
  writeVarUint(head, spans.length);
  for (const s of spans) {
    writeVarUint(head, s.client);
    writeVarUint(head, s.from);
    writeVarUint(head, s.to - s.from);
  }
  const text = new TextEncoder().encode(spans.map((s) => s.text).join(''));
  const out = new Uint8Array(head.length + text.length);
  out.set(head);
  out.set(text, head.length);
  return out;
}

/** The spans `encodeDeletions` wrote, each given `at` and `by` (the row's). */
export function decodeDeletions(bytes: Uint8Array, at: number, by: DeletionSpan['by']): DeletionSpan[] {
  const position = { offset: 0 };
  const count = readVarUint(bytes, position);
  const ranges: { client: number; from: number; length: number }[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push({ client: readVarUint(bytes, position), from: readVarUint(bytes, position), length: readVarUint(bytes, position) });
  }
  // Lone surrogates became U+FFFD (one UTF-16 unit each), so lengths still line up.
  const text = new TextDecoder().decode(bytes.subarray(position.offset));
  let offset = 0;
  return ranges.map(({ client, from, length }) => {
    const span = { client, from, to: from + length, at, by, text: text.slice(offset, offset + length).padEnd(length, '\0') };
    offset += length;
    return span;
  });
}

/**
 * Characters a batch deleted, read from the first bytes of its encoding only (`head`: the start
 * of what `encodeDeletions` wrote, maybe cut; the deleted text is not needed). When the head is
 * cut inside its span list, the spans read so far (`exact: false`).
 */
export function deletedCount(head: Uint8Array): { chars: number; exact: boolean } {
  const position = { offset: 0 };
  let chars = 0;
  try {
    const count = readVarUint(head, position);
    for (let i = 0; i < count; i++) {
      readVarUint(head, position);
      readVarUint(head, position);
      chars += readVarUint(head, position);
    }
  } catch {
    return { chars, exact: false };
  }
  return { chars, exact: true };
}

function writeVarUint(out: number[], value: number): void {
  while (value > 0x7f) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

function readVarUint(bytes: Uint8Array, position: { offset: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[position.offset++];
    if (byte === undefined) throw new Error('Truncated deletion batch.');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
}

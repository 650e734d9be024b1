import { AppError } from '@tandem/protocol';
import { diffLines, splitLines } from './lineDiff.ts';

/**
 * One reviewable change. Offsets are UTF-16 code units into the base text (the anchored range's
 * text), the same unit Y.Text uses. Hunks are line-aligned, sorted, and separated by at least one
 * unchanged line, so any subset of them applies independently.
 */
export interface Hunk {
  /** Position in the hunk list computed from the final output; the stable id reviews refer to. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  /** base.slice(start, end) */
  readonly removed: string;
  readonly inserted: string;
}

export interface ComputeHunksOptions {
  /**
   * The proposed text is a prefix of output still streaming in. Base lines after the last matched
   * line are "not reached yet" rather than deleted, and an unfinished last line that is the start
   * of the next base line is left out. Display only: the final (non-streaming) result is reviewed.
   */
  readonly streaming?: boolean;
}

function lineOffsets(lines: readonly string[]): number[] {
  const offsets = [0];
  for (const line of lines) offsets.push(offsets[offsets.length - 1]! + line.length);
  return offsets;
}

export function computeHunks(baseText: string, proposedText: string, options: ComputeHunksOptions = {}): Hunk[] {
  const streaming = options.streaming === true;
  const base = splitLines(baseText);
  let proposed = splitLines(proposedText);
  // While streaming, an unfinished last line is compared with nothing: it is either pending (the
  // start of the base line the output has reached) or part of the trailing insertion.
  const last = proposed[proposed.length - 1];
  const unfinished = streaming && last !== undefined && !last.endsWith('\n') ? last : null;
  if (unfinished !== null) proposed = proposed.slice(0, -1);

  const { matches, aEnd } = diffLines(base, proposed, streaming);
  const bo = lineOffsets(base);
  const po = lineOffsets(proposed);
  const hunks: Hunk[] = [];
  const addChange = (aFrom: number, aTo: number, bFrom: number, bTo: number, extra = '') => {
    const start = bo[aFrom]!;
    const end = bo[aTo]!;
    const inserted = proposedText.slice(po[bFrom]!, po[bTo]!) + extra;
    if (start === end && inserted === '') return;
    hunks.push({ index: hunks.length, start, end, removed: baseText.slice(start, end), inserted });
  };
  let a = 0;
  let b = 0;
  for (const mt of matches) {
    if (mt.a > a || mt.b > b) addChange(a, mt.a, b, mt.b);
    a = mt.a + 1;
    b = mt.b + 1;
  }
  const pending = unfinished !== null && (base[aEnd] ?? '').startsWith(unfinished);
  const tail = unfinished !== null && !pending ? unfinished : '';
  addChange(a, aEnd, b, proposed.length, tail);
  return hunks;
}

/**
 * Refuses hunks that do not describe `baseText` (they may come from storage or a request):
 * each hunk's removed text must be at its offsets, starts strictly increase, hunks do not overlap
 * and their indices are distinct.
 */
export function assertHunksFit(baseText: string, hunks: readonly Hunk[]): void {
  if (new Set(hunks.map((h) => h.index)).size !== hunks.length) {
    throw new AppError('BAD_INPUT', 'The suggestion hunks do not match their base text.', 'duplicate hunk index');
  }
  let prevEnd = -1;
  let prevStart = -1;
  for (const h of hunks) {
    const ok = Number.isInteger(h.start) && Number.isInteger(h.end) && h.start >= 0 && h.start <= h.end &&
      h.end <= baseText.length && h.start > prevStart && h.start >= prevEnd && typeof h.inserted === 'string' &&
      baseText.slice(h.start, h.end) === h.removed;
    if (!ok) throw new AppError('BAD_INPUT', 'The suggestion hunks do not match their base text.', `hunk ${h.index}`);
    prevStart = h.start;
    prevEnd = h.end;
  }
}

function selectHunks(hunks: readonly Hunk[], indices: Iterable<number>): Hunk[] {
  const byIndex = new Map(hunks.map((h) => [h.index, h]));
  const chosen = new Map<number, Hunk>();
  for (const i of indices) {
    const h = byIndex.get(i);
    if (!h) throw new AppError('BAD_INPUT', 'Unknown hunk.', `hunk ${i}`);
    chosen.set(i, h);
  }
  return [...chosen.values()].sort((x, y) => x.start - y.start);
}

/** `baseText` with the hunks whose `index` is in `indices` applied (all of them by default). */
export function applyHunksToText(baseText: string, hunks: readonly Hunk[], indices: Iterable<number> = hunks.map((h) => h.index)): string {
  assertHunksFit(baseText, hunks);
  let out = '';
  let at = 0;
  for (const h of selectHunks(hunks, indices)) {
    out += baseText.slice(at, h.start) + h.inserted;
    at = h.end;
  }
  return out + baseText.slice(at);
}

/**
 * After the hunks in `appliedIndices` were applied to the base, the others re-expressed against
 * the new base (base with those hunks applied): same `index`, offsets shifted by the size change
 * of every applied hunk before them.
 */
export function rebaseHunks(hunks: readonly Hunk[], appliedIndices: Iterable<number>): Hunk[] {
  const applied = new Set(selectHunks(hunks, appliedIndices).map((h) => h.index));
  const remaining: Hunk[] = [];
  let shift = 0;
  for (const h of [...hunks].sort((x, y) => x.start - y.start)) {
    if (applied.has(h.index)) shift += h.inserted.length - (h.end - h.start);
    else remaining.push({ ...h, start: h.start + shift, end: h.end + shift });
  }
  return remaining;
}

/**
 * A compact Myers diff (O((N+M)·D) time, O(D²) memory for the trace) over sequences of line ids.
 * Returns the matched (equal) pairs; everything between two matches is a change.
 *
 * `prefixOfA` is the streaming variant: B is compared with the best-matching PREFIX of A, i.e.
 * deleting A's tail is free. While the AI output is still growing, base lines it has not reached
 * yet are then "not reached" rather than "deleted".
 */

export interface LineMatch {
  readonly a: number;
  readonly b: number;
}

export interface LineDiff {
  readonly matches: readonly LineMatch[];
  /** How many lines of A the diff covers: a.length, or less in prefix mode. */
  readonly aEnd: number;
}

/** Above this edit cost the middle is reported as one change (a total rewrite reviews as one hunk anyway). */
export const MAX_EDIT_COST = 1500;

const UNREACHED = -1;

/** Furthest-reaching d-paths on diagonals -d..d, stored as a band (index k + d). */
type Band = Int32Array;

function bandGet(band: Band, d: number, k: number): number {
  return k < -d || k > d ? UNREACHED : band[k + d]!;
}

/**
 * The furthest x reachable on diagonal k with cost d, from the (d-1)-band `prev`, staying inside the
 * n×m grid. Down moves come from diagonal k+1 (insert from B), right moves from k-1 (delete from A).
 */
function step(prev: Band, d: number, k: number, n: number, m: number): { x: number; fromK: number } | null {
  const down = bandGet(prev, d - 1, k + 1);
  const right = bandGet(prev, d - 1, k - 1);
  const downX = down !== UNREACHED && down - k <= m ? down : UNREACHED;
  const rightX = right !== UNREACHED && right + 1 <= n ? right + 1 : UNREACHED;
  if (downX === UNREACHED && rightX === UNREACHED) return null;
  return downX >= rightX ? { x: downX, fromK: k + 1 } : { x: rightX, fromK: k - 1 };
}

function snake(a: Int32Array, b: Int32Array, x: number, k: number): number {
  let y = x - k;
  while (x < a.length && y < b.length && a[x] === b[y]) { x++; y++; }
  return x;
}

export function diffIds(a: Int32Array, b: Int32Array, prefixOfA = false, maxCost = MAX_EDIT_COST): LineDiff | null {
  const n = a.length;
  const m = b.length;
  const done = (x: number, y: number) => y === m && (prefixOfA || x === n);
  const trace: Band[] = [];
  for (let d = 0; d <= Math.min(n + m, maxCost); d++) {
    const band = new Int32Array(2 * d + 1).fill(UNREACHED);
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (d === 0) x = 0;
      else {
        const s = step(trace[d - 1]!, d, k, n, m);
        if (!s) continue;
        x = s.x;
      }
      x = snake(a, b, x, k);
      band[k + d] = x;
      if (done(x, x - k)) {
        trace.push(band);
        return { matches: backtrack(trace, x, x - k, n, m), aEnd: x };
      }
    }
    trace.push(band);
  }
  return null;
}

function backtrack(trace: readonly Band[], x: number, y: number, n: number, m: number): LineMatch[] {
  const matches: LineMatch[] = [];
  for (let d = trace.length - 1; d > 0; d--) {
    const k = x - y;
    const s = step(trace[d - 1]!, d, k, n, m)!;
    const prevX = bandGet(trace[d - 1]!, d - 1, s.fromK);
    const landX = s.fromK === k + 1 ? prevX : prevX + 1;
    while (x > landX) { x--; y--; matches.push({ a: x, b: y }); }
    x = prevX;
    y = prevX - s.fromK;
  }
  while (x > 0 && y > 0) { x--; y--; matches.push({ a: x, b: y }); }
  return matches.reverse();
}

/** Splits into lines that keep their '\n', so offsets are exact and a missing final newline is a difference. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Maps equal strings to equal small integers so the diff compares numbers. */
export function internLines(lines: readonly string[], ids: Map<string, number>): Int32Array {
  const out = new Int32Array(lines.length);
  lines.forEach((line, i) => {
    let id = ids.get(line);
    if (id === undefined) { id = ids.size; ids.set(line, id); }
    out[i] = id;
  });
  return out;
}

/**
 * Line diff with the common prefix (and, outside prefix mode, suffix) stripped first — the usual
 * case for an edit of a selection is a few changed lines in a sea of equal ones. Falls back to
 * "everything in the middle changed" when the edit cost exceeds MAX_EDIT_COST.
 */
export function diffLines(a: readonly string[], b: readonly string[], prefixOfA = false): LineDiff {
  const ids = new Map<string, number>();
  const ai = internLines(a, ids);
  const bi = internLines(b, ids);
  let head = 0;
  while (head < ai.length && head < bi.length && ai[head] === bi[head]) head++;
  let tail = 0;
  if (!prefixOfA) {
    while (tail < ai.length - head && tail < bi.length - head && ai[ai.length - 1 - tail] === bi[bi.length - 1 - tail]) tail++;
  }
  const middle = diffIds(ai.subarray(head, ai.length - tail), bi.subarray(head, bi.length - tail), prefixOfA);
  const matches: LineMatch[] = [];
  for (let i = 0; i < head; i++) matches.push({ a: i, b: i });
  for (const mt of middle?.matches ?? []) matches.push({ a: mt.a + head, b: mt.b + head });
  for (let i = tail; i > 0; i--) matches.push({ a: ai.length - i, b: bi.length - i });
  // Without a middle diff (too costly) a prefix diff covers nothing past the common head.
  const aEnd = prefixOfA ? head + (middle ? middle.aEnd : 0) : ai.length;
  return { matches, aEnd };
}

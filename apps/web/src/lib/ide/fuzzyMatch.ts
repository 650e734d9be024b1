/**
 * Fuzzy matching for quick open and the command palette: every character of the query must
 * appear in order; contiguous runs, word starts (after `/`, `.`, `-`, `_`, space, or a case
 * change) and matches inside the last path segment score higher. Returns the matched indexes so
 * the UI can highlight them, or null when the query does not match.
 */
export interface FuzzyMatch {
  score: number;
  indexes: number[];
}

const SEPARATORS = '/._- ';

export function fuzzyMatch(query: string, text: string): FuzzyMatch | null {
  const q = query.replace(/\s+/g, '').toLowerCase();
  if (q.length === 0) return { score: 0, indexes: [] };
  if (q.length > text.length) return null;
  const lower = text.toLowerCase();
  const baseStart = text.lastIndexOf('/') + 1;
  const indexes: number[] = [];
  let score = 0;
  let from = 0;
  for (let qi = 0; qi < q.length; qi++) {
    // Prefer a word-start occurrence of this character before falling back to the first one.
    let at = lower.indexOf(q[qi]!, from);
    if (at < 0) return null;
    for (let probe = at; probe >= 0 && probe < lower.length; probe = lower.indexOf(q[qi]!, probe + 1)) {
      if (isWordStart(text, probe) || probe === indexes[indexes.length - 1]! + 1) {
        at = probe;
        break;
      }
    }
    const previous = indexes[indexes.length - 1];
    score += 1;
    if (previous !== undefined && at === previous + 1) score += 5;
    if (isWordStart(text, at)) score += 3;
    if (at >= baseStart) score += 2;
    indexes.push(at);
    from = at + 1;
  }
  // Shorter candidates and an exact base-name prefix win ties.
  if (lower.startsWith(q, baseStart)) score += 10;
  score -= text.length * 0.01;
  return { score, indexes };
}

function isWordStart(text: string, i: number): boolean {
  if (i === 0) return true;
  const before = text[i - 1]!;
  if (SEPARATORS.includes(before)) return true;
  const c = text[i]!;
  return c !== c.toLowerCase() && before === before.toLowerCase();
}

/** `items` that match `query`, best first; ties keep the caller's order (e.g. recent first). */
export function rankByFuzzy<T>(items: readonly T[], query: string, textOf: (item: T) => string, limit = 50): { item: T; match: FuzzyMatch }[] {
  const scored: { item: T; match: FuzzyMatch; order: number }[] = [];
  items.forEach((item, order) => {
    const match = fuzzyMatch(query, textOf(item));
    if (match) scored.push({ item, match, order });
  });
  scored.sort((a, b) => b.match.score - a.match.score || a.order - b.order);
  return scored.slice(0, limit);
}

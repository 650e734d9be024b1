import type * as Y from 'yjs';
import type { Author } from './authors.ts';
import type { DocumentHistory } from './DocumentHistory.ts';

/** Characters [start, end) of a text (UTF-16 offsets) written by one client id from `clock` on. */
export interface CharRun {
  start: number;
  end: number;
  client: number;
  clock: number;
}

/** The visible characters of a Y.Text, by the Yjs item that holds them (deleted items skipped). */
export function charRuns(text: Y.Text): CharRun[] {
  const runs: CharRun[] = [];
  let offset = 0;
  for (let item = text._start; item !== null; item = item.right) {
    if (item.deleted || !item.countable) continue;
    runs.push({ start: offset, end: offset + item.length, client: item.id.client, clock: item.id.clock });
    offset += item.length;
  }
  return runs;
}

/** Lines [fromLine, toLine] (1-based) last written by one author at one time. */
export interface BlameRange {
  fromLine: number;
  toLine: number;
  /** Who wrote the most recent character of these lines; null when no record exists (e.g. written before history was kept). */
  author: Author | null;
  /** When (ms since epoch, coarse), or null. */
  at: number | null;
  /** Characters in these lines that an AI change wrote. */
  aiChars: number;
  chars: number;
}

/**
 * Blame per line, like `git blame`: a line belongs to whoever wrote its most recent character
 * (its newline included); consecutive lines with the same author and time form one range.
 */
export function blameLines(text: Y.Text, history: DocumentHistory): BlameRange[] {
  const content = text.toString();
  const runs = charRuns(text);
  const ranges: BlameRange[] = [];
  let line = 1;
  let best: { author: Author | null; at: number | null } | null = null;
  let aiChars = 0;
  let chars = 0;
  const endLine = () => {
    const author = best?.author ?? null;
    const at = best?.at ?? null;
    const last = ranges[ranges.length - 1];
    if (last && last.at === at && sameAuthor(last.author, author)) {
      last.toLine = line;
      last.aiChars += aiChars;
      last.chars += chars;
    } else {
      ranges.push({ fromLine: line, toLine: line, author, at, aiChars, chars });
    }
    line++;
    best = null;
    aiChars = 0;
    chars = 0;
  };
  for (const run of runs) {
    let offset = run.start;
    while (offset < run.end) {
      const newline = content.indexOf('\n', offset);
      const pieceEnd = newline === -1 || newline >= run.end ? run.end : newline + 1;
      const clock = run.clock + (offset - run.start);
      const author = history.authorOf(run.client);
      const span = history.insertedAt(run.client, clock);
      const at = span?.at ?? null;
      if (best === null || (at ?? -1) > (best.at ?? -1)) best = { author, at };
      if (author?.kind === 'ai') aiChars += pieceEnd - offset;
      chars += pieceEnd - offset;
      offset = pieceEnd;
      if (content.charCodeAt(pieceEnd - 1) === 10) endLine();
    }
  }
  if (chars > 0 || ranges.length === 0) endLine();
  return ranges;
}

function sameAuthor(a: Author | null, b: Author | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'person' && b.kind === 'person') return a.userId === b.userId;
  if (a.kind === 'ai' && b.kind === 'ai') return a.suggestionId === b.suggestionId && a.agentRunId === b.agentRunId && a.approvedBy === b.approvedBy;
  if (a.kind === 'system' && b.kind === 'system') return a.source === b.source;
  return true;
}

import * as Y from 'yjs';
import type { Author } from './authors.ts';
import type { Deleter, DocumentHistory, Span } from './DocumentHistory.ts';

/** A pause longer than this between two steps starts a new session. */
export const SESSION_GAP_MS = 5 * 60_000;

/** Characters in document order that were inserted, and maybe deleted, at the same times by the same authors. */
interface Piece {
  text: string;
  /** -Infinity: before history was kept. */
  insertedAt: number;
  /** Infinity: still there; -Infinity: deleted before history was kept. */
  deletedAt: number;
  client: number;
  by: Deleter | null;
}

/** One point of the slider: everything written and deleted at one (coarse) time, by whom. */
export interface TimelineStep {
  at: number;
  inserted: number;
  deleted: number;
  authors: Author[];
}

export interface TimelineSession {
  /** Steps [fromStep, toStep] (indexes into `steps`). */
  fromStep: number;
  toStep: number;
  start: number;
  end: number;
  authors: Author[];
}

/**
 * A file's past, rebuilt from its live Y.Text (whose items keep their ids, deleted ones
 * included, through compaction) and its DocumentHistory (when each clock was inserted and
 * deleted, and the deleted text): the text at any time, and the steps and sessions of its
 * edits. Read-only: never touches the document.
 */
export class FileTimeline {
  readonly steps: TimelineStep[];
  readonly sessions: TimelineSession[];

  private constructor(private readonly pieces: Piece[], history: DocumentHistory) {
    const byTime = new Map<number, { step: TimelineStep; keys: Set<string> }>();
    const add = (at: number, author: Author, inserted: number, deleted: number) => {
      let entry = byTime.get(at);
      if (!entry) byTime.set(at, (entry = { step: { at, inserted: 0, deleted: 0, authors: [] }, keys: new Set() }));
      entry.step.inserted += inserted;
      entry.step.deleted += deleted;
      const key = JSON.stringify(author);
      if (!entry.keys.has(key)) {
        entry.keys.add(key);
        entry.step.authors.push(author);
      }
    };
    for (const p of pieces) {
      if (Number.isFinite(p.insertedAt)) add(p.insertedAt, history.authorOf(p.client) ?? { kind: 'system' }, p.text.length, 0);
      if (Number.isFinite(p.deletedAt) && p.by) add(p.deletedAt, deleterAuthor(p.by, history), 0, p.text.length);
    }
    this.steps = [...byTime.values()].map((e) => e.step).sort((a, b) => a.at - b.at);
    this.sessions = sessionsOf(this.steps);
  }

  static build(text: Y.Text, history: DocumentHistory): FileTimeline {
    const pieces: Piece[] = [];
    let inserted: Span | null = null;
    let deleted: (Span & { by: Deleter; text: string }) | null = null;
    for (let item = text._start; item !== null; item = item.right) {
      const { content } = item;
      const known = content instanceof Y.ContentString ? content.str : null;
      if (known === null && !(content instanceof Y.ContentDeleted)) continue;
      const { client, clock } = item.id;
      for (let k = 0; k < item.length; k++) {
        const c = clock + k;
        if (!inserted || inserted.client !== client || c < inserted.from || c >= inserted.to) inserted = history.insertedAt(client, c);
        let char = known?.[k];
        let deletedAt = Infinity;
        let by: Deleter | null = null;
        if (item.deleted) {
          if (!deleted || deleted.client !== client || c < deleted.from || c >= deleted.to) deleted = history.deletedBy(client, c);
          deletedAt = deleted?.at ?? -Infinity;
          by = deleted?.by ?? null;
          char ??= deleted?.text[c - deleted.from];
        }
        // Deleted before its text was kept: nothing to show.
        if (char === undefined || char === '\0') continue;
        const insertedAt = inserted?.at ?? -Infinity;
        const last = pieces[pieces.length - 1];
        if (last && last.client === client && last.insertedAt === insertedAt && last.deletedAt === deletedAt && last.by === by) last.text += char;
        else pieces.push({ text: char, insertedAt, deletedAt, client, by });
      }
    }
    return new FileTimeline(pieces, history);
  }

  /** The text once every step up to time `at` (inclusive) had happened. */
  textAt(at: number): string {
    let out = '';
    for (const p of this.pieces) if (p.insertedAt <= at && (p.deletedAt > at || p.deletedAt === Infinity)) out += p.text;
    return out;
  }
}

function deleterAuthor(by: Deleter, history: DocumentHistory): Author {
  return 'userId' in by ? { kind: 'person', userId: by.userId } : history.authorOf(by.client) ?? { kind: 'system' };
}

function sessionsOf(steps: readonly TimelineStep[]): TimelineSession[] {
  const sessions: TimelineSession[] = [];
  steps.forEach((step, i) => {
    const last = sessions[sessions.length - 1];
    if (last && step.at - last.end <= SESSION_GAP_MS) {
      last.toStep = i;
      last.end = step.at;
      for (const a of step.authors) if (!last.authors.some((b) => JSON.stringify(b) === JSON.stringify(a))) last.authors.push(a);
    } else {
      sessions.push({ fromStep: i, toStep: i, start: step.at, end: step.at, authors: [...step.authors] });
    }
  });
  return sessions;
}

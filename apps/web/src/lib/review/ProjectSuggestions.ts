'use client';
import type { CompactDisplayHunk, DisplayHunk, SuggestionFrame, SuggestionView } from '@tandem/api';
import type { ProjectStream } from '@/lib/ProjectStream';
import { Arrivals } from '@/lib/Arrivals';
import { errorMessage, trpc } from '@/lib/trpc';

/** A suggestion as this tab shows it: the server's view plus what streaming frames added. */
export interface LiveSuggestion extends SuggestionView {
  /** For streaming ones: the latest display diff (offsets) and how much of the proposal it covers. */
  compact: CompactDisplayHunk[] | null;
  displayLength: number;
}

export interface SuggestionsSnapshot {
  /** Open suggestions (requested, streaming, ready, stale), oldest first. */
  open: LiveSuggestion[];
  /** Suggestions that closed while this tab was open (for their outcome and undo), newest first. */
  closed: LiveSuggestion[];
  error: string | null;
}

const OPEN = new Set(['requested', 'streaming', 'ready', 'stale']);
const MAX_CLOSED = 20;

/**
 * The project's shared AI edits in this tab: loaded once, then kept current from the tab's one
 * ProjectStream (`suggestion` snapshots replace, `suggestion.frame`s append streamed code). A
 * missed frame or a `resync` reloads the list. Not React: components read it with
 * useSyncExternalStore; notifications are batched to one per animation frame, so a 3,000 tok/s
 * stream re-renders at the display's rate, not per frame.
 */
export class ProjectSuggestions {
  private readonly byId = new Map<string, LiveSuggestion>();
  private readonly closedIds: string[] = [];
  private readonly listeners = new Set<() => void>();
  private snapshot: SuggestionsSnapshot = { open: [], closed: [], error: null };
  private error: string | null = null;
  private scheduled: number | null = null;
  private readonly unsubscribe: (() => void)[];
  private disposed = false;
  private readonly arrivals = new Arrivals<SuggestionView>();

  constructor(readonly projectId: string, stream: ProjectStream) {
    this.unsubscribe = [
      stream.on('suggestion', (e) => {
        const view = e.data;
        this.arrivals.saw(view.id, view);
        this.receiveView(view);
      }),
      stream.on('suggestion.frame', (e) => this.receiveFrame(e.data)),
      stream.on('resync', () => void this.reload()),
      stream.onState((s) => {
        if (s === 'live') void this.reload();
      }),
    ];
    void this.reload();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SuggestionsSnapshot => this.snapshot;

  get(id: string): LiveSuggestion | undefined {
    return this.byId.get(id);
  }

  async reload(): Promise<void> {
    // Suggestions that arrive while the list is fetched are newer than it: never dropped by it.
    try {
      const [views, arrived] = await this.arrivals.during(() => trpc.suggestions.list.query({ projectId: this.projectId }));
      const seen = new Set(views.map((v) => v.id));
      for (const [id, s] of this.byId) if (OPEN.has(s.status) && !seen.has(id) && !arrived.has(id)) this.byId.delete(id);
      for (const view of views) this.receiveView(view);
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
    this.changed();
  }

  /** Runs an action; its returned view is applied at once (the event for it may come later). */
  /** Runs an action; its error is shown in the panel unless the caller shows it (`report: false`). */
  async act(action: () => Promise<SuggestionView>, { report = true } = {}): Promise<void> {
    try {
      this.receiveView(await action());
      this.error = null;
    } catch (e) {
      if (report) {
        this.error = errorMessage(e);
        this.changed();
      }
      throw e;
    }
  }

  clearError(): void {
    this.error = null;
    this.changed();
  }

  dispose(): void {
    this.disposed = true;
    for (const off of this.unsubscribe) off();
    if (this.scheduled !== null) cancelAnimationFrame(this.scheduled);
    this.listeners.clear();
  }

  private receiveView(view: SuggestionView): void {
    const current = this.byId.get(view.id);
    // Events and action results race: never go back to an older state of the same attempt (frames
    // do not change updatedAt, so an equally old view with less text is older too).
    if (current && current.attempt === view.attempt) {
      if (current.updatedAt > view.updatedAt) return;
      if (current.updatedAt === view.updatedAt && current.proposedText.length > view.proposedText.length) return;
    }
    if (current && current.attempt > view.attempt) return;
    this.byId.set(view.id, { ...view, compact: null, displayLength: view.proposedText.length });
    if (!OPEN.has(view.status) && !this.closedIds.includes(view.id)) {
      this.closedIds.unshift(view.id);
      for (const id of this.closedIds.splice(MAX_CLOSED)) this.byId.delete(id);
    }
    this.changed();
  }

  private receiveFrame(frame: SuggestionFrame): void {
    const s = this.byId.get(frame.id);
    if (!s || s.attempt !== frame.attempt || !OPEN.has(s.status)) return;
    if (s.proposedText.length !== frame.offset) {
      void this.reload(); // missed a frame: the list has the whole proposal so far
      return;
    }
    this.byId.set(frame.id, {
      ...s,
      status: 'streaming',
      proposedText: s.proposedText + frame.text,
      compact: frame.display ?? s.compact,
      displayLength: frame.displayLength,
      metrics: frame.metrics,
    });
    this.changed();
  }

  private changed(): void {
    if (this.disposed || this.scheduled !== null) return;
    this.scheduled = requestAnimationFrame(() => {
      this.scheduled = null;
      const all = [...this.byId.values()];
      this.snapshot = {
        open: all.filter((s) => OPEN.has(s.status)).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
        closed: this.closedIds.map((id) => this.byId.get(id)!).filter(Boolean),
        error: this.error,
      };
      for (const l of this.listeners) l();
    });
  }
}

/**
 * What to draw over the code for a suggestion: the pending hunks of a ready one, or the
 * streaming diff rebuilt from offsets (see SuggestionFrame in @tandem/api: outside its hunks a
 * proposal equals its base, so each inserted text is a slice of the proposal; text after the
 * diff's coverage extends a trailing insertion until the next diff arrives).
 */
export function displayOf(s: LiveSuggestion): DisplayHunk[] {
  if (s.status !== 'streaming' || s.compact === null) return s.display;
  let shift = 0;
  const hunks = s.compact.map(([start, end, length]) => {
    const from = start + shift;
    shift += length - (end - start);
    return { start, end, inserted: s.proposedText.slice(from, from + length), index: null, reachesEnd: from + length === s.displayLength };
  });
  const last = hunks.at(-1);
  const tail = s.proposedText.slice(s.displayLength);
  if (last?.reachesEnd && tail) last.inserted += tail;
  return hunks.map(({ reachesEnd: _r, ...h }) => h);
}

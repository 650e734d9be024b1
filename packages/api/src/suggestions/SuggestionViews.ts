import type { ApprovalPolicy } from '@tandem/review';
import { base64, compactDisplay, expandDisplay, pendingDisplay } from './displayHunks.ts';
import type { SuggestionRecord } from './SuggestionRecord.ts';
import type { SuggestionStore } from './SuggestionStore.ts';
import type { ActivityEntry, ApprovalPolicyView, DisplayHunk, HunkView, SuggestionView, UserRef } from './suggestionEvents.ts';

type ActivityRow = Awaited<ReturnType<SuggestionStore['activity']>>[number];

/**
 * What participants see of a suggestion (`SuggestionView`, the activity record), and the names
 * it shows: remembered from whoever acts, looked up once for anyone else.
 */
export class SuggestionViews {
  readonly #names = new Map<string, string>();

  constructor(private readonly store: SuggestionStore) {}

  remember(userId: string, name: string): void {
    this.#names.set(userId, name);
  }

  async ensureNames(ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#names.has(id));
    for (const [id, name] of await this.store.userNames(missing)) this.#names.set(id, name);
  }

  view(record: SuggestionRecord, policy: ApprovalPolicy): SuggestionView {
    return {
      id: record.id,
      projectId: record.projectId,
      fileId: record.fileId,
      path: record.path,
      startLine: record.startLine,
      endLine: record.endLine,
      requester: this.#ref(record.requesterId),
      instruction: record.instruction,
      providerId: record.providerId,
      providerLabel: record.providerLabel,
      model: record.model,
      status: record.state.status,
      attempt: record.state.attempt,
      error: record.state.error,
      anchor: { start: base64(record.anchor.start), end: base64(record.anchor.end) },
      baseText: record.baseText,
      proposedText: record.proposed,
      display: display(record),
      hunks: this.#hunkViews(record),
      policy: policy as ApprovalPolicyView,
      metrics: record.metrics,
      undone: record.undone ? { by: this.#ref(record.undone.userId), at: record.undone.at } : null,
      createdAt: record.createdAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
    };
  }

  /** One entry of the AI activity record; `fresher` is the open suggestion in memory, if any (live metrics, proposal so far). */
  async activity(rows: ActivityRow[], fresher: (id: string) => SuggestionRecord | undefined): Promise<Omit<ActivityEntry, 'providerLabel'>[]> {
    await this.ensureNames(rows.flatMap(({ record, events }) => [...userIdsOf(record), ...events.flatMap((e) => (e.userId ? [e.userId] : []))]));
    return rows.map(({ record, events }) => {
      const r = fresher(record.id) ?? record;
      return {
        id: r.id, fileId: r.fileId, path: r.path, startLine: r.startLine, endLine: r.endLine,
        requester: this.#ref(r.requesterId), instruction: r.instruction, providerId: r.providerId, model: r.model,
        status: r.state.status, attempt: r.state.attempt, error: r.state.error,
        ttftMs: r.metrics.ttftMs, tokens: r.metrics.tokens, tokensPerSecond: r.metrics.tokensPerSecond,
        hunks: this.#hunkViews(r),
        events: events.map((e) => ({
          kind: e.kind, user: e.userId ? this.#ref(e.userId) : null, hunkIndex: e.hunkIndex, at: e.createdAt.toISOString(),
          detail: typeof (e.detail as { message?: unknown } | null)?.message === 'string' ? (e.detail as { message: string }).message : null,
        })),
        undone: r.undone ? { by: this.#ref(r.undone.userId), at: r.undone.at } : null,
        createdAt: r.createdAt.toISOString(),
      };
    });
  }

  #ref(userId: string): UserRef {
    return { id: userId, name: this.#names.get(userId) ?? 'A former member' };
  }

  #hunkViews(record: SuggestionRecord): HunkView[] {
    return record.hunks.map((h, i) => {
      const review = record.state.hunks[i]!;
      return {
        index: h.index,
        removed: h.removed,
        inserted: h.inserted,
        decision: review.decision,
        approvals: review.approvals.map((u) => this.#ref(u)),
        decidedBy: review.decidedBy ? this.#ref(review.decidedBy) : null,
        decidedAt: record.decidedAt[i] ?? null,
        stale: review.stale === true,
        anchor: record.anchored[i] ? { start: base64(record.anchored[i].anchor.start), end: base64(record.anchored[i].anchor.end) } : null,
      };
    });
  }
}

/** Everyone a suggestion's view names. */
export function userIdsOf(record: SuggestionRecord): string[] {
  const ids = [record.requesterId];
  for (const h of record.state.hunks) {
    ids.push(...h.approvals);
    if (h.decidedBy) ids.push(h.decidedBy);
  }
  if (record.undone) ids.push(record.undone.userId);
  return ids;
}

function display(record: SuggestionRecord): DisplayHunk[] {
  const { status } = record.state;
  if (status === 'requested' || status === 'streaming') return expandDisplay(compactDisplay(record.baseText, record.proposed, true), record.proposed);
  if (status !== 'ready') return [];
  return pendingDisplay(record.hunks, record.anchored, record.state.hunks);
}

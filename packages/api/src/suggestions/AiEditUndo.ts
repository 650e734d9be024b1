import * as Y from 'yjs';
import type { SyncUser } from '@tandem/collab';
import type { AiEditOrigin } from '@tandem/review';

/** The live documents an undo edits (the SyncServer; structural so tests pass their own). */
export interface UndoDocuments {
  editDocument(documentName: string, edit: (doc: Y.Doc) => void, options?: { user?: SyncUser; origin?: object }): Promise<void>;
}

/** What to record: a file's text, or the project tree (an agent's create / rename / delete). */
type UndoScope = ConstructorParameters<typeof Y.UndoManager>[0];

interface Target {
  docName: string;
  doc: Y.Doc;
  manager: Y.UndoManager;
}

/**
 * The undo of ONE reviewed AI change — a suggestion's accepted hunks, or an agent run's accepted
 * changeset — shared by both: one Y.UndoManager per document the accepts touched, tracking only
 * the change's AiEditOrigin(s), so undo reverts exactly the AI's edits for everyone and keeps
 * everyone else's. A manager lives on one in-memory copy of a document: when the server unloads
 * and reloads it (everyone left, restart), that part of the history is gone and `complete` says so.
 */
export class AiEditUndo {
  #targets: Target[] = [];
  #lost = false;

  /** Call inside the edit, BEFORE applying: records `origin`'s transactions on `scope` of this copy. */
  track(docName: string, doc: Y.Doc, scope: UndoScope, origin: AiEditOrigin): void {
    const existing = this.#targets.find((t) => t.docName === docName);
    if (existing && existing.doc === doc) {
      existing.manager.addTrackedOrigin(origin);
      return;
    }
    if (existing) this.#forget(existing);
    const target: Target = { docName, doc, manager: new Y.UndoManager(scope, { trackedOrigins: new Set([origin]), captureTimeout: 0 }) };
    this.#targets.push(target);
    doc.once('destroy', () => this.#forget(target));
  }

  /** Something was recorded, and every accepted edit is still revertible. */
  get complete(): boolean {
    return this.#targets.length > 0 && !this.#lost;
  }

  get empty(): boolean {
    return this.#targets.length === 0;
  }

  /**
   * Reverts every recorded edit, last document first (an agent's created file leaves the tree
   * before its text is emptied). Returns false when part of the history was lost.
   */
  async undo(documents: UndoDocuments, user?: SyncUser): Promise<boolean> {
    for (const target of [...this.#targets].reverse()) {
      await documents.editDocument(target.docName, (doc) => {
        if (doc !== target.doc) {
          this.#lost = true;
          return;
        }
        while (target.manager.canUndo()) target.manager.undo();
      }, user ? { user } : undefined);
    }
    const complete = !this.#lost;
    this.destroy();
    return complete;
  }

  destroy(): void {
    for (const t of this.#targets) t.manager.destroy();
    this.#targets = [];
  }

  #forget(target: Target): void {
    if (!this.#targets.includes(target)) return;
    target.manager.destroy();
    this.#targets = this.#targets.filter((t) => t !== target);
    this.#lost = true;
  }
}

import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';

/**
 * The transaction origin of an applied AI edit: which suggestion, accepted by whom. Observers of
 * the doc (`doc.on('update', (update, origin) => …)`) see it, so the edit can be attributed, and a
 * Y.UndoManager can track it: Yjs matches tracked origins by identity OR by constructor, so track
 * one instance to revert exactly that accept, or the class to track every AI edit.
 */
export class AiEditOrigin {
  readonly suggestionId: string;
  readonly userId: string;

  constructor(suggestionId: string, userId: string) {
    this.suggestionId = suggestionId;
    this.userId = userId;
  }
}

/**
 * An UndoManager over the file text that records only transactions whose origin is `tracked`
 * (an AiEditOrigin instance, or the class itself for every AI edit). Create it BEFORE applying the
 * edit. captureTimeout 0: every applyHunks call is its own undo step, never merged with the next,
 * so `undo()` reverts exactly the last applied AI edit — as a normal Yjs transaction that syncs to
 * everyone and leaves other people's edits (even ones made since) alone.
 *
 * To use the editor's own UndoManager instead, `addTrackedOrigin(origin)` on it and call
 * `stopCapturing()` right before and after applyHunks, so the AI edit is not merged into the
 * user's surrounding typing.
 */
export function createAiEditUndoManager(doc: Y.Doc, tracked: AiEditOrigin | typeof AiEditOrigin): Y.UndoManager {
  return new Y.UndoManager(doc.getText(FILE_TEXT), { trackedOrigins: new Set<unknown>([tracked]), captureTimeout: 0 });
}

import * as monaco from '@/lib/ide/monaco';
import * as Y from 'yjs';
import { MonacoBinding } from 'y-monaco';
import type { FileConnection } from './ProjectSession';
import type { ProjectModels } from './ProjectModels';

/**
 * One open file in the (single) Monaco editor: a Monaco model kept equal to the file's Y.Text by
 * y-monaco, plus an undo history of this user's own edits.
 *
 * Undo scoping: y-monaco 0.1.6 applies remote changes to the model with `applyEdits`, which Monaco's
 * own undo stack does not understand, so Monaco's undo would revert other people's typing or
 * corrupt the text. Ctrl/Cmd+Z and Shift+Ctrl/Cmd+Z / Ctrl+Y are therefore rebound (CodeEditor) to a
 * Y.UndoManager whose trackedOrigins is exactly this binding: y-monaco writes local edits in
 * transactions with the binding as origin, so the manager records only what this user typed here,
 * and never remote edits, server edits (uploads, AI suggestions) or the sync handshake.
 */
export class EditorFileBinding {
  model: monaco.editor.ITextModel;
  private binding: MonacoBinding;
  private undoManager: Y.UndoManager;
  viewState: monaco.editor.ICodeEditorViewState | null = null;
  private path: string;

  /** The model lives at the file's path (ProjectModels), so code intelligence sees the project. */
  constructor(readonly file: FileConnection, path: string, private readonly editor: monaco.editor.IStandaloneCodeEditor, private readonly models: ProjectModels) {
    this.path = path;
    this.model = models.acquire(path);
    this.binding = new MonacoBinding(file.text, this.model, new Set([editor]), file.awareness);
    this.undoManager = new Y.UndoManager(file.text, { trackedOrigins: new Set([this.binding]), captureTimeout: 500 });
  }

  /** The file was renamed or moved: rebinds at the new path (a model's path cannot change). True if the model changed. */
  setPath(path: string): boolean {
    if (path === this.path || !path) return false;
    this.undoManager.destroy();
    this.binding.destroy();
    this.models.release(this.path);
    this.path = path;
    this.model = this.models.acquire(path);
    this.binding = new MonacoBinding(this.file.text, this.model, new Set([this.editor]), this.file.awareness);
    this.undoManager = new Y.UndoManager(this.file.text, { trackedOrigins: new Set([this.binding]), captureTimeout: 500 });
    return true;
  }

  undo(): void {
    this.moveCaretToChange(() => this.undoManager.undo());
  }

  redo(): void {
    this.moveCaretToChange(() => this.undoManager.redo());
  }

  /** Ends the current undo step: the next edit starts a new one. */
  stopCapturing(): void {
    this.undoManager.stopCapturing();
  }

  /**
   * Called when this file becomes the editor's model. y-monaco forgets its remote-cursor
   * decorations while another model is shown (leaving stale ones behind): drop them and redraw.
   */
  activated(): void {
    const stale = this.model.getAllDecorations().filter((d) => d.options.className?.startsWith('yRemoteSelection')).map((d) => d.id);
    if (stale.length > 0) this.model.deltaDecorations(stale, []);
    this.binding._rerenderDecorations();
  }

  dispose(): void {
    this.undoManager.destroy();
    this.binding.destroy();
    this.models.release(this.path);
  }

  /** Runs an undo/redo and puts the caret where it changed the text (as editors usually do). */
  private moveCaretToChange(run: () => void): void {
    let caret = -1;
    const observer = (event: Y.YTextEvent, transaction: Y.Transaction) => {
      if (transaction.origin !== this.undoManager) return;
      let index = 0;
      for (const op of event.delta) {
        if (op.retain !== undefined) index += op.retain;
        else if (typeof op.insert === 'string') caret = index += op.insert.length;
        else if (op.delete !== undefined) caret = index;
      }
    };
    this.file.text.observe(observer);
    try {
      run();
    } finally {
      this.file.text.unobserve(observer);
    }
    if (caret < 0 || this.editor.getModel() !== this.model) return;
    const position = this.model.getPositionAt(caret);
    this.editor.setPosition(position);
    this.editor.revealPositionInCenterIfOutsideViewport(position);
  }
}

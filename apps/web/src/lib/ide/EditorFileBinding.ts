import * as monaco from '@/lib/ide/monaco';
import * as Y from 'yjs';
import { MonacoBinding } from 'y-monaco';
import type { FileConnection } from './ProjectSession';
import type { ProjectModels } from './ProjectModels';

/**
 * One open file in the IDE's Monaco editors: a Monaco model kept equal to the file's Y.Text by
 * y-monaco, plus an undo history of this user's own edits. One binding serves every editor group
 * that shows the file (ProjectEditors): remote selections are drawn in each of them, and the caret
 * of whichever moved is published as this person's selection.
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
  private binding!: MonacoBinding;
  private undoManager!: Y.UndoManager;
  /** The editors y-monaco draws remote selections in (and keeps the carets of across remote edits). */
  private editorSet = new Set<monaco.editor.IStandaloneCodeEditor>();
  private readonly editors = new Set<monaco.editor.IStandaloneCodeEditor>();
  private readonly rerender = () => this.binding._rerenderDecorations();
  private path: string;

  /** The model lives at the file's path (ProjectModels), so code intelligence sees the project. */
  constructor(readonly file: FileConnection, path: string, private readonly models: ProjectModels) {
    this.path = path;
    this.model = models.acquire(path);
    this.bind();
    file.awareness.on('change', this.rerender);
  }

  /**
   * y-monaco subscribes to the carets of the editors it is given at construction only (and never
   * lets go): it gets an empty set, filled afterwards, and carets are published by `publishSelection`.
   */
  private bind(): void {
    this.editorSet = new Set();
    this.binding = new MonacoBinding(this.file.text, this.model, this.editorSet, this.file.awareness);
    for (const editor of this.editors) this.editorSet.add(editor);
    this.undoManager = new Y.UndoManager(this.file.text, { trackedOrigins: new Set([this.binding]), captureTimeout: 500 });
  }

  addEditor(editor: monaco.editor.IStandaloneCodeEditor): void {
    this.editors.add(editor);
    this.editorSet.add(editor);
  }

  removeEditor(editor: monaco.editor.IStandaloneCodeEditor): void {
    this.editors.delete(editor);
    this.editorSet.delete(editor);
  }

  /** `editor`'s selection (if it shows this file) becomes this person's selection in the file's awareness. */
  publishSelection(editor: monaco.editor.IStandaloneCodeEditor): void {
    const selection = editor.getSelection();
    if (editor.getModel() !== this.model || !selection) return;
    let anchor = this.model.getOffsetAt(selection.getStartPosition());
    let head = this.model.getOffsetAt(selection.getEndPosition());
    if (selection.getDirection() === monaco.SelectionDirection.RTL) [anchor, head] = [head, anchor];
    this.file.awareness.setLocalStateField('selection', {
      anchor: Y.createRelativePositionFromTypeIndex(this.file.text, anchor),
      head: Y.createRelativePositionFromTypeIndex(this.file.text, head),
    });
  }

  /** The file was renamed or moved: rebinds at the new path (a model's path cannot change). True if the model changed. */
  setPath(path: string): boolean {
    if (path === this.path || !path) return false;
    this.undoManager.destroy();
    this.binding.destroy();
    this.models.release(this.path);
    this.path = path;
    this.model = this.models.acquire(path);
    this.bind();
    return true;
  }

  /** Undoes this person's last edit to the file, putting the caret of `editor` there. */
  undo(editor: monaco.editor.IStandaloneCodeEditor): void {
    this.moveCaretToChange(editor, () => this.undoManager.undo());
  }

  redo(editor: monaco.editor.IStandaloneCodeEditor): void {
    this.moveCaretToChange(editor, () => this.undoManager.redo());
  }

  /** Ends the current undo step: the next edit starts a new one. */
  stopCapturing(): void {
    this.undoManager.stopCapturing();
  }

  /**
   * Called when this file becomes an editor's model. y-monaco forgets its remote-cursor
   * decorations while another model is shown (leaving stale ones behind): drop them and redraw.
   */
  activated(): void {
    const stale = this.model.getAllDecorations().filter((d) => d.options.className?.startsWith('yRemoteSelection')).map((d) => d.id);
    if (stale.length > 0) this.model.deltaDecorations(stale, []);
    this.binding._rerenderDecorations();
  }

  dispose(): void {
    this.file.awareness.off('change', this.rerender);
    this.undoManager.destroy();
    this.binding.destroy();
    this.models.release(this.path);
  }

  /** Runs an undo/redo and puts the caret where it changed the text (as editors usually do). */
  private moveCaretToChange(editor: monaco.editor.IStandaloneCodeEditor, run: () => void): void {
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
    if (caret < 0 || editor.getModel() !== this.model) return;
    const position = this.model.getPositionAt(caret);
    editor.setPosition(position);
    editor.revealPositionInCenterIfOutsideViewport(position);
  }
}

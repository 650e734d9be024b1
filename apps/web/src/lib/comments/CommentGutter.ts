import * as monaco from '@/lib/ide/monaco';
import type { CommentThreadView } from '@tandem/api';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import { encodeRange, resolveRange } from '@/lib/review/anchors';
import type { CommentDraft } from './useComments';

export interface CommentGutterHost {
  /** Start a thread on the selection (the side bar shows the draft). */
  addComment(draft: CommentDraft): void;
  /** A thread's marker was clicked. */
  openThread(threadId: string): void;
}

/**
 * Comment threads in the editor: a marker in the glyph margin and a faint highlight on each open
 * thread's lines (resolved ones are not drawn), placed by resolving the thread's relative
 * positions in the live document, so they stay on their code while people type. "Add Comment"
 * (Ctrl/Cmd+Alt+M, or the context menu) anchors a new thread to the selected lines.
 */
export class CommentGutter {
  readonly #decorations: monaco.editor.IEditorDecorationsCollection;
  readonly #disposables: monaco.IDisposable[] = [];
  #file: FileConnection | null = null;
  #threads: CommentThreadView[] = [];
  #lines = new Map<number, string>();
  #frame: number | null = null;
  /** A thread to bring into view once its file's text is here. */
  #reveal: string | null = null;
  /** Text arriving or changing (e.g. the file's content syncing in) re-places the markers. */
  readonly #onText = (): void => {
    if (this.#frame === null) this.#frame = requestAnimationFrame(() => { this.#frame = null; this.#render(); });
  };

  constructor(private readonly editor: monaco.editor.IStandaloneCodeEditor, private readonly host: CommentGutterHost) {
    this.#decorations = editor.createDecorationsCollection();
    editor.updateOptions({ glyphMargin: true });
    this.#disposables.push(
      editor.addAction({
        id: 'tandem.addComment',
        label: 'Add Comment',
        keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyMod.Alt | monaco.KeyCode.KeyM],
        contextMenuGroupId: 'navigation',
        contextMenuOrder: 2,
        run: () => this.#addComment(),
      }),
      editor.onMouseDown((e) => {
        if (e.target.type !== monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN) return;
        const id = this.#lines.get(e.target.position?.lineNumber ?? -1);
        if (id) host.openThread(id);
      }),
    );
  }

  /** The file shown (null: none) and the project's threads. */
  show(file: FileConnection | null, threads: CommentThreadView[]): void {
    if (file !== this.#file) {
      this.#file?.text.unobserve(this.#onText);
      file?.text.observe(this.#onText);
    }
    this.#file = file;
    this.#threads = threads;
    this.#render();
  }

  /** Scrolls to a thread's lines (now, or when its file has loaded). */
  reveal(threadId: string): void {
    this.#reveal = threadId;
    this.#render();
  }

  dispose(): void {
    this.#file?.text.unobserve(this.#onText);
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#decorations.clear();
    for (const d of this.#disposables) d.dispose();
  }

  #render(): void {
    const model = this.editor.getModel();
    const file = this.#file;
    this.#lines = new Map();
    if (!model || !file) return void this.#decorations.clear();
    const decorations: monaco.editor.IModelDeltaDecoration[] = [];
    for (const t of this.#threads) {
      if (t.fileId !== file.fileId) continue;
      const range = placeOf(file, t);
      if (!range || range.end > model.getValueLength()) continue;
      const start = model.getPositionAt(range.start);
      // An AI hunk's lines include their last newline: the thread ends on that line, not the next.
      const end = model.getPositionAt(t.suggestionId ? Math.max(range.start, range.end - 1) : range.end);
      if (t.resolved) {
        if (this.#reveal === t.id) {
          this.#reveal = null;
          this.editor.setPosition(start);
          this.editor.revealLineInCenter(start.lineNumber);
        }
        continue;
      }
      this.#lines.set(start.lineNumber, t.id);
      if (this.#reveal === t.id) {
        this.#reveal = null;
        this.editor.setPosition(start);
        this.editor.revealLineInCenter(start.lineNumber);
      }
      const first = t.comments[0];
      decorations.push({
        range: new monaco.Range(start.lineNumber, 1, Math.max(start.lineNumber, end.lineNumber), 1),
        options: {
          isWholeLine: true,
          className: 'comment-lines',
          glyphMarginClassName: 'comment-glyph',
          glyphMarginHoverMessage: first ? { value: `**${first.author.name}**: ${first.body.slice(0, 200)}${t.comments.length > 1 ? `  \n_${t.comments.length - 1} more_` : ''}` } : undefined,
          stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
        },
      });
    }
    this.#decorations.set(decorations);
  }

  #addComment(): void {
    const model = this.editor.getModel();
    const selection = this.editor.getSelection();
    const file = this.#file;
    if (!model || !selection || !file) return;
    // Whole lines: a thread is about the lines the selection touches (the caret's line if none).
    const startLine = selection.startLineNumber;
    const endLine = selection.endColumn === 1 && selection.endLineNumber > startLine ? selection.endLineNumber - 1 : selection.endLineNumber;
    const start = model.getOffsetAt({ lineNumber: startLine, column: 1 });
    const end = model.getOffsetAt({ lineNumber: endLine, column: model.getLineMaxColumn(endLine) });
    const anchor = encodeRange(file.text, start, end);
    this.host.addComment({ fileId: file.fileId, anchorStart: anchor.start, anchorEnd: anchor.end, excerpt: model.getValueInRange(new monaco.Range(startLine, 1, endLine, model.getLineMaxColumn(endLine))).slice(0, 500), line: startLine });
  }
}

/** Where a thread's lines are now in the file, or null (text gone, not synced yet, unreadable anchor). */
function placeOf(file: FileConnection, t: CommentThreadView): { start: number; end: number } | null {
  try {
    const range = resolveRange(file.doc, { start: t.anchorStart, end: t.anchorEnd });
    return typeof range === 'string' ? null : range;
  } catch {
    return null;
  }
}

'use client';
import { useEffect, useRef } from 'react';
import * as monaco from '@/lib/ide/monaco';
import type { TreeEntries } from '@/lib/ide/fileTree';
import { EDITOR_THEME, type ProjectEditors } from '@/lib/ide/ProjectEditors';
import type { EditorFeature } from '@/lib/ide/editorFeature';
import { CommentGutter } from '@/lib/comments/CommentGutter';
import type { CommentDraft } from '@/lib/comments/useComments';
import type { CommentThreadView } from '@tandem/api';
import { cursorHeadIndex, cursorOfSession } from '@/lib/ide/presence';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import { RemoteCursors } from '@/lib/ide/RemoteCursors';
import { installTestHook } from '@/lib/ide/testHook';
import { typingElsewhere } from '@/lib/focus';

export interface CursorPosition {
  line: number;
  column: number;
  selected: number;
}

export interface CodeEditorProps {
  /** What the project's editors share: files' models and bindings, code intelligence. */
  project: ProjectEditors;
  /** This group's tabs (file ids), each with a live binding while open. */
  openFiles: string[];
  activeFile: string | null;
  entries: TreeEntries;
  readOnly: boolean;
  /** Features drawn in every editor (AI edits, completions, blame); read when the editor is created. */
  features: readonly EditorFeature[];
  /** Session id of the participant being followed: their cursor is kept in view. */
  followSession?: number | null;
  onCursor?(position: CursorPosition | null): void;
  /** The user clicked or typed in the editor (ends follow mode). */
  onOwnNavigation?(): void;
  /** The editor was created (null: disposed). */
  onEditor?(editor: monaco.editor.IStandaloneCodeEditor | null): void;
  /** The file now shown (its model is set), or null. */
  onShownFile?(file: FileConnection | null): void;
  /** The project's comment threads (markers on their lines), and what to do with them. */
  threads?: CommentThreadView[];
  onAddComment?(draft: CommentDraft): void;
  onOpenThread?(threadId: string): void;
  /** Bring this thread's lines into view (a new `seq` asks again). */
  revealThread?: { id: string; seq: number } | null;
  /** The end-to-end tests' window hook reads this editor. */
  testHook?: boolean;
  testId: string;
}

/**
 * One editor group's Monaco editor (loaded client-side only, with next/dynamic); every group is
 * set up here, the same way. Each tab is a file's Monaco model, bound to its Y.Text and shared
 * with the other group (ProjectEditors); switching tabs swaps the model and keeps view state.
 */
export default function CodeEditor(props: CodeEditorProps) {
  const container = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const cursorsRef = useRef<RemoteCursors | null>(null);
  const gutterRef = useRef<CommentGutter | null>(null);
  /** Shows a file (null: none) in the editor, and tells everything that draws in it. */
  const showRef = useRef<(fileId: string | null) => void>(() => {});
  /** Files this group holds open (its tabs). */
  const held = useRef(new Set<string>());
  const shown = useRef<string | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const { project } = props;

  // Create the editor once.
  useEffect(() => {
    const editor = monaco.editor.create(container.current!, {
      model: null,
      theme: EDITOR_THEME,
      automaticLayout: true,
      fontSize: 13.5,
      fontFamily: "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      minimap: { enabled: false },
      scrollBeyondLastLine: false,
      overviewRulerBorder: false,
      tabSize: 2,
      renderWhitespace: 'selection',
      readOnly: latest.current.readOnly,
      readOnlyMessage: { value: 'You are a viewer in this project: the editor is read-only.' },
      padding: { top: 8 },
    });
    editorRef.current = editor;
    project.addEditor(editor);
    const gutter = new CommentGutter(editor, {
      addComment: (draft) => latest.current.onAddComment?.(draft),
      openThread: (id) => latest.current.onOpenThread?.(id),
    });
    gutterRef.current = gutter;
    const cursors = new RemoteCursors(editor);
    cursorsRef.current = cursors;
    const attachments = latest.current.features.map((f) => f.attach(editor));
    const viewStates = new Map<string, monaco.editor.ICodeEditorViewState | null>();
    latest.current.onEditor?.(editor);

    showRef.current = (fileId) => {
      if (shown.current) viewStates.set(shown.current, editor.saveViewState());
      const next = fileId ? project.binding(fileId) : undefined;
      shown.current = next ? fileId : null;
      editor.setModel(next?.model ?? null);
      if (next) {
        const viewState = viewStates.get(fileId!);
        if (viewState) editor.restoreViewState(viewState);
        next.activated();
        if (!latest.current.followSession && !typingElsewhere(editor.getContainerDomNode())) editor.focus();
      }
      const file = next?.file ?? null;
      cursors.attach(file);
      for (const a of attachments) a.showFile(file);
      latest.current.onShownFile?.(file);
      project.pathShown(fileId ? latest.current.entries.get(fileId)?.path : undefined);
      latest.current.onCursor?.(next ? { line: editor.getPosition()?.lineNumber ?? 1, column: editor.getPosition()?.column ?? 1, selected: 0 } : null);
    };

    const active = () => (shown.current ? project.binding(shown.current) : undefined);
    const editing = 'editorTextFocus && !editorReadonly';
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyZ, () => active()?.undo(editor), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.KeyZ, () => active()?.redo(editor), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyY, () => active()?.redo(editor), editing);
    const disposables = [
      editor.onMouseDown(() => latest.current.onOwnNavigation?.()),
      editor.onKeyDown((e) => {
        if (!isModifierOnly(e.keyCode)) latest.current.onOwnNavigation?.();
      }),
      editor.onDidChangeCursorSelection((e) => {
        // Moving the caret yourself (click, arrows, Ctrl+End) starts a new undo step, as in VS Code:
        // Ctrl+Z then undoes what you typed since, not everything typed within the last 500 ms.
        if (e.reason === monaco.editor.CursorChangeReason.Explicit) active()?.stopCapturing();
        const model = editor.getModel();
        latest.current.onCursor?.({
          line: e.selection.positionLineNumber,
          column: e.selection.positionColumn,
          selected: model ? model.getValueLengthInRange(e.selection) : 0,
        });
      }),
    ];
    // A renamed file's model moved to its new path: show that one.
    const offRebound = project.onRebound((fileId) => {
      if (shown.current === fileId) showRef.current(fileId);
    });
    const removeHook = latest.current.testHook ? installTestHook(() => ({ editor, activeFile: shown.current })) : () => {};
    const open = held.current;
    return () => {
      latest.current.onEditor?.(null);
      removeHook();
      offRebound();
      for (const d of disposables) d.dispose();
      for (const a of attachments) a.dispose();
      cursors.dispose();
      gutter.dispose();
      gutterRef.current = null;
      for (const fileId of open) project.release(fileId);
      open.clear();
      project.removeEditor(editor);
      editor.dispose();
      editorRef.current = null;
      showRef.current = () => {};
      // React may mount again (StrictMode in dev): nothing is shown in the next editor yet.
      shown.current = null;
    };
  }, [project]);

  // Hold a binding per tab; let go of it with the tab.
  const { openFiles, activeFile, entries, readOnly, followSession = null } = props;
  useEffect(() => {
    const editor = editorRef.current!;
    const open = held.current;
    for (const fileId of openFiles) {
      if (open.has(fileId)) continue;
      project.acquire(fileId, entries.get(fileId)?.path ?? '');
      open.add(fileId);
    }
    for (const fileId of open) {
      if (openFiles.includes(fileId)) continue;
      if (shown.current === fileId) {
        editor.setModel(null);
        shown.current = null;
        cursorsRef.current!.attach(null);
      }
      project.release(fileId);
      open.delete(fileId);
    }
  }, [project, openFiles, entries]);

  // Show the active tab.
  useEffect(() => {
    if (shown.current !== activeFile) showRef.current(activeFile);
  }, [activeFile, openFiles]);

  useEffect(() => {
    editorRef.current!.updateOptions({ readOnly });
  }, [readOnly]);

  // Comment markers for the file shown.
  const { threads } = props;
  useEffect(() => {
    gutterRef.current?.show(activeFile ? project.binding(activeFile)?.file ?? null : null, threads ?? []);
  }, [project, activeFile, openFiles, threads]);

  const { revealThread } = props;
  useEffect(() => {
    if (revealThread) gutterRef.current?.reveal(revealThread.id);
  }, [revealThread]);

  // Follow mode: keep the followed participant's caret in view as it moves.
  useEffect(() => {
    if (followSession === null || !activeFile) return;
    const file = project.binding(activeFile)?.file;
    if (!file) return;
    const reveal = () => {
      const editor = editorRef.current;
      const cursor = cursorOfSession(file.awareness, followSession);
      const model = editor?.getModel();
      if (!editor || !cursor || !model || shown.current !== activeFile) return;
      const head = cursor.state.selection?.head;
      const index = cursorHeadIndex(head, file);
      const position = index === null ? null : model.getPositionAt(index);
      if (position) editor.revealPositionInCenterIfOutsideViewport(position, monaco.editor.ScrollType.Smooth);
    };
    reveal();
    file.awareness.on('change', reveal);
    file.text.observe(reveal);
    return () => {
      file.awareness.off('change', reveal);
      file.text.unobserve(reveal);
    };
  }, [project, followSession, activeFile, openFiles]);

  return <div className="ide-editor-host" ref={container} data-testid={props.testId} />;
}

function isModifierOnly(code: monaco.KeyCode): boolean {
  return code === monaco.KeyCode.Ctrl || code === monaco.KeyCode.Shift || code === monaco.KeyCode.Alt || code === monaco.KeyCode.Meta;
}

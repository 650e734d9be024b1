'use client';
import { useEffect, useRef } from 'react';
import * as monaco from '@/lib/ide/monaco';
import type { TreeEntries } from '@/lib/ide/fileTree';
import { EditorFileBinding } from '@/lib/ide/EditorFileBinding';
import { ProjectModels } from '@/lib/ide/ProjectModels';
import { CodeIntelligence } from '@/lib/ide/CodeIntelligence';
import { CommentGutter } from '@/lib/comments/CommentGutter';
import type { CommentDraft } from '@/lib/comments/useComments';
import type { CommentThreadView } from '@tandem/api';
import { installMonacoEnvironment } from '@/lib/ide/monacoEnvironment';
import { cursorHeadIndex, cursorOfSession } from '@/lib/ide/presence';
import type { FileConnection, ProjectSession } from '@/lib/ide/ProjectSession';
import { RemoteCursors } from '@/lib/ide/RemoteCursors';
import { installTestHook } from '@/lib/ide/testHook';
import type { PythonLanguageClient } from '@/lib/ide/PythonLanguageClient';
import { typingElsewhere } from '@/lib/focus';

export interface CursorPosition {
  line: number;
  column: number;
  selected: number;
}

export interface CodeEditorProps {
  projectId: string;
  session: ProjectSession;
  /** Open tabs (file ids), each with a live connection while open. */
  openFiles: string[];
  activeFile: string | null;
  entries: TreeEntries;
  readOnly: boolean;
  /** Session id of the participant being followed: their cursor is kept in view. */
  followSession: number | null;
  onCursor(position: CursorPosition | null): void;
  /** The user clicked or typed in the editor (ends follow mode). */
  onOwnNavigation(): void;
  /** The editor was created (null: disposed): features that draw in it attach here (AI edits). */
  onEditor?(editor: monaco.editor.IStandaloneCodeEditor | null): void;
  /** For a split's second editor: Monaco itself and the undo history of each bound file (null: disposed). */
  onSplitSupport?(support: SplitSupport | null): void;
  /** The file now shown (its model is set), or null. */
  onShownFile?(file: FileConnection | null): void;
  /** The project's comment threads (markers on their lines), and what to do with them. */
  threads?: CommentThreadView[];
  onAddComment?(draft: CommentDraft): void;
  onOpenThread?(threadId: string): void;
  /** Bring this thread's lines into view (a new `seq` asks again). */
  revealThread?: { id: string; seq: number } | null;
  /** Something the user should know (e.g. a rename could not change a file). */
  onProblem?(message: string): void;
  /** Go to definition / references into another file: open its tab there. False if not a project file. */
  onOpenPath?(path: string, position: { line: number; column: number } | null): boolean;
}

export interface SplitSupport {
  monaco: typeof monaco;
  undo(fileId: string): void;
  redo(fileId: string): void;
}

const THEME = 'tandem-dark';

/**
 * The one Monaco editor of the IDE (loaded client-side only, with next/dynamic). Each open tab is a
 * Monaco model bound to its file's Y.Text; switching tabs swaps the model and keeps view state.
 */
export default function CodeEditor(props: CodeEditorProps) {
  const container = useRef<HTMLDivElement>(null);
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const cursorsRef = useRef<RemoteCursors | null>(null);
  const bindings = useRef(new Map<string, EditorFileBinding>());
  const shown = useRef<string | null>(null);
  const models = useRef<ProjectModels | null>(null);
  const intelligenceRef = useRef<CodeIntelligence | null>(null);
  const gutterRef = useRef<CommentGutter | null>(null);
  const pythonRef = useRef<PythonLanguageClient | Promise<void> | null>(null);
  const latest = useRef(props);
  latest.current = props;

  // Create the editor once.
  useEffect(() => {
    installMonacoEnvironment();
    monaco.editor.defineTheme(THEME, {
      base: 'vs-dark',
      inherit: true,
      rules: [],
      colors: { 'editor.background': '#0f1115', 'editorGutter.background': '#0f1115', 'editor.lineHighlightBackground': '#161a21' },
    });
    const editor = monaco.editor.create(container.current!, {
      model: null,
      theme: THEME,
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
    models.current = new ProjectModels((edit) => void intelligence.applyShadowEdit(edit));
    const intelligence: CodeIntelligence = new CodeIntelligence(latest.current.projectId, models.current, {
      open: (path, position) => latest.current.onOpenPath?.(path, position) ?? false,
      problem: (message) => latest.current.onProblem?.(message),
    });
    intelligenceRef.current = intelligence;
    gutterRef.current = new CommentGutter(editor, {
      addComment: (draft) => latest.current.onAddComment?.(draft),
      openThread: (id) => latest.current.onOpenThread?.(id),
    });
    latest.current.onEditor?.(editor);
    latest.current.onSplitSupport?.({ monaco, undo: (id) => bindings.current.get(id)?.undo(), redo: (id) => bindings.current.get(id)?.redo() });
    const cursors = new RemoteCursors(editor);
    cursorsRef.current = cursors;
    const active = () => (shown.current ? bindings.current.get(shown.current) : undefined);
    const editing = 'editorTextFocus && !editorReadonly';
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyZ, () => active()?.undo(), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.KeyZ, () => active()?.redo(), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyY, () => active()?.redo(), editing);
    const disposables = [
      editor.onMouseDown(() => latest.current.onOwnNavigation()),
      editor.onKeyDown((e) => {
        if (!isModifierOnly(e.keyCode)) latest.current.onOwnNavigation();
      }),
      editor.onDidChangeCursorSelection((e) => {
        // Moving the caret yourself (click, arrows, Ctrl+End) starts a new undo step, as in VS Code:
        // Ctrl+Z then undoes what you typed since, not everything typed within the last 500 ms.
        if (e.reason === monaco.editor.CursorChangeReason.Explicit) active()?.stopCapturing();
        const model = editor.getModel();
        latest.current.onCursor({
          line: e.selection.positionLineNumber,
          column: e.selection.positionColumn,
          selected: model ? model.getValueLengthInRange(e.selection) : 0,
        });
      }),
    ];
    const removeHook = installTestHook(() => ({ editor, activeFile: shown.current }));
    const open = bindings.current;
    return () => {
      latest.current.onEditor?.(null);
      latest.current.onSplitSupport?.(null);
      removeHook();
      for (const d of disposables) d.dispose();
      cursors.dispose();
      for (const [fileId, binding] of open) {
        binding.dispose();
        latest.current.session.releaseFile(fileId);
      }
      open.clear();
      intelligence.dispose();
      intelligenceRef.current = null;
      if (pythonRef.current && !(pythonRef.current instanceof Promise)) pythonRef.current.dispose();
      pythonRef.current = null;
      gutterRef.current?.dispose();
      gutterRef.current = null;
      models.current?.dispose();
      models.current = null;
      editor.dispose();
      editorRef.current = null;
      // React may mount again (StrictMode in dev): nothing is shown in the next editor yet.
      shown.current = null;
    };
  }, []);

  // Open a connection and a model per tab; close them with the tab.
  const { session, openFiles, activeFile, entries, readOnly, followSession } = props;
  useEffect(() => {
    const editor = editorRef.current!;
    const open = bindings.current;
    for (const fileId of openFiles) {
      if (open.has(fileId)) continue;
      const file = session.acquireFile(fileId);
      open.set(fileId, new EditorFileBinding(file, entries.get(fileId)?.path ?? '', editor, models.current!));
    }
    for (const [fileId, binding] of open) {
      if (openFiles.includes(fileId)) continue;
      if (shown.current === fileId) {
        editor.setModel(null);
        shown.current = null;
        cursorsRef.current!.attach(null);
      }
      binding.dispose();
      session.releaseFile(fileId);
      open.delete(fileId);
    }
    for (const [fileId, binding] of open) {
      const path = entries.get(fileId)?.path;
      if (path && binding.setPath(path) && shown.current === fileId) {
        editor.setModel(binding.model);
        binding.activated();
      }
    }
  }, [session, openFiles, entries]);

  // Files created, renamed or deleted: the code intelligence reloads the project's sources.
  useEffect(() => {
    const timer = setTimeout(() => void intelligenceRef.current?.refresh(), 500);
    return () => clearTimeout(timer);
  }, [entries]);

  // Show the active tab.
  useEffect(() => {
    const editor = editorRef.current!;
    if (shown.current === activeFile) return;
    const previous = shown.current ? bindings.current.get(shown.current) : undefined;
    if (previous) previous.viewState = editor.saveViewState();
    const next = activeFile ? bindings.current.get(activeFile) : undefined;
    shown.current = next ? activeFile : null;
    editor.setModel(next?.model ?? null);
    if (next) {
      if (next.viewState) editor.restoreViewState(next.viewState);
      next.activated();
      if (!latest.current.followSession && !typingElsewhere(editor.getContainerDomNode())) editor.focus();
    }
    cursorsRef.current!.attach(next?.file ?? null);
    latest.current.onShownFile?.(next?.file ?? null);
    latest.current.onCursor(next ? { line: editor.getPosition()?.lineNumber ?? 1, column: editor.getPosition()?.column ?? 1, selected: 0 } : null);
  }, [activeFile, openFiles]);

  useEffect(() => {
    editorRef.current!.updateOptions({ readOnly });
  }, [readOnly]);

  // The Python language client is loaded the first time a Python file is shown.
  const activePath = activeFile ? entries.get(activeFile)?.path : undefined;
  useEffect(() => {
    if (pythonRef.current || !activePath || !/\.pyi?$/.test(activePath)) return;
    const editor = editorRef.current;
    pythonRef.current = import('@/lib/ide/PythonLanguageClient').then(({ PythonLanguageClient }) => {
      if (editorRef.current !== editor || !editor) return;
      pythonRef.current = new PythonLanguageClient(monaco, latest.current.projectId, { pathOf: ProjectModels.pathOf, uriOf: ProjectModels.uriOf });
    });
  }, [activePath]);

  // Comment markers for the file shown.
  const { threads } = props;
  useEffect(() => {
    const file = activeFile ? bindings.current.get(activeFile)?.file ?? null : null;
    gutterRef.current?.show(file, threads ?? []);
  }, [activeFile, openFiles, threads]);

  const { revealThread } = props;
  useEffect(() => {
    if (revealThread) gutterRef.current?.reveal(revealThread.id);
  }, [revealThread]);

  // Follow mode: keep the followed participant's caret in view as it moves.
  useEffect(() => {
    if (followSession === null || !activeFile) return;
    const file = bindings.current.get(activeFile)?.file;
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
  }, [followSession, activeFile, openFiles]);

  return <div className="ide-editor-host" ref={container} data-testid="code-editor" />;
}

function isModifierOnly(code: monaco.KeyCode): boolean {
  return code === monaco.KeyCode.Ctrl || code === monaco.KeyCode.Shift || code === monaco.KeyCode.Alt || code === monaco.KeyCode.Meta;
}

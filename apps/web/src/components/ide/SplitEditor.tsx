'use client';
import { useEffect, useRef } from 'react';
import type * as Monaco from 'monaco-editor';

export interface SplitEditorProps {
  /** Monaco, as loaded by the main editor (CodeEditor hands it over with the editor). */
  monaco: typeof import('@/lib/ide/monaco');
  /** Path of the file shown, or null. */
  path: string | null;
  readOnly: boolean;
  /** The shared undo history of a file (the main editor's binding: remote edits are never undone). */
  undo(): void;
  redo(): void;
}

/**
 * The right-hand editor of a split. It shows the same Monaco model as the main editor (a file's
 * model lives at its path, kept equal to the live document by the main editor's binding, which
 * the workspace keeps for every file open in either group), so typing here is typing into the
 * shared document.
 */
export default function SplitEditor({ monaco, path, readOnly, undo, redo }: SplitEditorProps) {
  const container = useRef<HTMLDivElement>(null);
  const editorRef = useRef<Monaco.editor.IStandaloneCodeEditor | null>(null);
  const actions = useRef({ undo, redo });
  actions.current = { undo, redo };

  useEffect(() => {
    const editor = monaco.editor.create(container.current!, {
      model: null, theme: 'tandem-dark', automaticLayout: true, fontSize: 13.5,
      fontFamily: "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, monospace",
      minimap: { enabled: false }, scrollBeyondLastLine: false, overviewRulerBorder: false, tabSize: 2, padding: { top: 8 },
    });
    editorRef.current = editor;
    const editing = 'editorTextFocus && !editorReadonly';
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyZ, () => actions.current.undo(), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyMod.Shift | monaco.KeyCode.KeyZ, () => actions.current.redo(), editing);
    editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyY, () => actions.current.redo(), editing);
    return () => {
      editor.dispose();
      editorRef.current = null;
    };
  }, [monaco]);

  useEffect(() => {
    editorRef.current?.updateOptions({ readOnly });
  }, [readOnly]);

  useEffect(() => {
    const editor = editorRef.current;
    if (!editor) return;
    // Same URI as ProjectModels.uriOf: the main editor creates the model when it binds the file.
    const uri = path === null ? null : monaco.Uri.file('/' + path);
    const show = () => {
      const model = uri ? monaco.editor.getModel(uri) : null;
      if (editor.getModel() !== model) editor.setModel(model);
    };
    show();
    const created = monaco.editor.onDidCreateModel((m) => {
      if (uri && m.uri.toString() === uri.toString()) show();
    });
    return () => created.dispose();
  }, [monaco, path]);

  return <div className="ide-editor-host" ref={container} data-testid="split-editor" />;
}

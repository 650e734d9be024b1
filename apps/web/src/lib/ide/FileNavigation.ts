'use client';
import { createContext, useContext, useMemo, useRef } from 'react';
import type { editor as MonacoEditor } from 'monaco-editor';
import { fileIdAt, type TreeEntries } from './fileTree';

/** Opening project files at a position, for links outside the editor (run output, terminals). */
export interface FileNavigation {
  fileIdAt(path: string): string | null;
  openAt(fileId: string, line: number, column: number): void;
}

export const FileNavigationContext = createContext<FileNavigation | null>(null);

export function useFileNavigation(): FileNavigation | null {
  return useContext(FileNavigationContext);
}

/**
 * The IDE's navigation for links: opens the file, then reveals the position once the editor shows
 * it (call `shown` whenever the editor's file changes).
 */
export function useEditorNavigation(
  entries: TreeEntries,
  openFile: (fileId: string) => void,
  editorRef: { readonly current: MonacoEditor.IStandaloneCodeEditor | null },
): FileNavigation & { shown(fileId: string | null): void } {
  const entriesRef = useRef(entries);
  entriesRef.current = entries;
  const shownFile = useRef<string | null>(null);
  const pending = useRef<{ fileId: string; line: number; column: number } | null>(null);
  return useMemo(() => ({
    fileIdAt: (path: string) => fileIdAt(entriesRef.current, path),
    openAt: (fileId: string, line: number, column: number) => {
      openFile(fileId);
      const editor = editorRef.current;
      if (editor && shownFile.current === fileId) revealPosition(editor, line, column);
      else pending.current = { fileId, line, column };
    },
    shown: (fileId: string | null) => {
      shownFile.current = fileId;
      const reveal = pending.current;
      if (!reveal || reveal.fileId !== fileId || !editorRef.current) return;
      pending.current = null;
      revealPosition(editorRef.current, reveal.line, reveal.column);
    },
  }), [openFile, editorRef]);
}

const CONTENT_WAIT_MS = 3000;

/**
 * Puts the caret at line:column and scrolls it into view. A file that was just opened may still be
 * receiving its text: wait (briefly) until the line exists.
 */
export function revealPosition(editor: MonacoEditor.IStandaloneCodeEditor, line: number, column: number): void {
  const apply = () => {
    const position = { lineNumber: line, column };
    editor.setPosition(position);
    editor.revealPositionInCenter(position);
    editor.focus();
  };
  const model = editor.getModel();
  if (!model || model.getLineCount() >= line) return apply();
  const listener = editor.onDidChangeModelContent(() => {
    if ((editor.getModel()?.getLineCount() ?? 0) < line) return;
    cleanup();
    // After the binding has finished applying the text (it restores the caret it saved before).
    setTimeout(apply, 0);
  });
  const timer = setTimeout(() => {
    cleanup();
    apply();
  }, CONTENT_WAIT_MS);
  const cleanup = () => {
    listener.dispose();
    clearTimeout(timer);
  };
}

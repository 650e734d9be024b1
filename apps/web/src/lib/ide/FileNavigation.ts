'use client';
import { createContext, useContext } from 'react';
import type { editor as MonacoEditor } from 'monaco-editor';

/** Opening project files at a position, for links outside the editor (run output, terminals). */
export interface FileNavigation {
  fileIdAt(path: string): string | null;
  openAt(fileId: string, line: number, column: number): void;
}

export const FileNavigationContext = createContext<FileNavigation | null>(null);

export function useFileNavigation(): FileNavigation | null {
  return useContext(FileNavigationContext);
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

'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type * as monaco from 'monaco-editor';
import type { BlameRangeView } from '@tandem/api';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import { errorMessage, trpc } from '@/lib/trpc';
import type { BlameDecorations, BlameMode } from './BlameDecorations';

/** Re-asked this long after the last change of the shown file, while blame is on. */
const REFRESH_AFTER_MS = 1500;

/**
 * Blame of the shown file (history.blame), drawn in the editor while `mode` is not `off`; fetched
 * when turned on, when another file is shown, and again shortly after its text changes.
 */
export function useBlame(projectId: string, onProblem: (message: string) => void) {
  const [mode, setMode] = useState<BlameMode>('off');
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const decorations = useRef<BlameDecorations | null>(null);
  const [file, setFile] = useState<FileConnection | null>(null);
  const ranges = useRef<BlameRangeView[]>([]);
  const latest = useRef({ mode, onProblem });
  latest.current = { mode, onProblem };

  const attachEditor = useCallback((editor: monaco.editor.IStandaloneCodeEditor | null) => {
    decorations.current?.dispose();
    decorations.current = null;
    editorRef.current = editor;
    if (!editor) return;
    void import('./BlameDecorations').then(({ BlameDecorations }) => {
      if (editorRef.current === editor) decorations.current = new BlameDecorations(editor);
    });
  }, []);

  const showFile = useCallback((next: FileConnection | null) => setFile(next), []);

  useEffect(() => {
    if (mode === 'off' || !file) {
      decorations.current?.show([], 'off');
      return;
    }
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      trpc.history.blame.query({ projectId, fileId: file.fileId }).then((r) => {
        if (cancelled) return;
        ranges.current = r;
        decorations.current?.show(r, latest.current.mode);
      }, (e: unknown) => !cancelled && latest.current.onProblem(`Blame: ${errorMessage(e)}`));
    };
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(load, REFRESH_AFTER_MS);
    };
    load();
    file.text.observe(changed);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      file.text.unobserve(changed);
    };
  }, [projectId, file, mode]);

  return { mode, setMode, attachEditor, showFile };
}

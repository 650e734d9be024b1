'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import type * as monaco from 'monaco-editor';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import type { EditorFeature } from '@/lib/ide/editorFeature';
import { errorMessage, trpc } from '@/lib/trpc';
import type { BlameDecorations, BlameMode } from './BlameDecorations';

/** Re-asked this long after the last change of the shown file, while blame is on. */
const REFRESH_AFTER_MS = 1500;

/** One editor's blame: its decorations once loaded, the file it shows, and how to stop watching it. */
interface BlameView {
  decorations: BlameDecorations | null;
  file: FileConnection | null;
  stop(): void;
}

/**
 * Blame of the file shown in each editor (history.blame), drawn while `mode` is not `off`; fetched
 * when turned on, when another file is shown, and again shortly after its text changes.
 */
export function useBlame(projectId: string, onProblem: (message: string) => void) {
  const [mode, setMode] = useState<BlameMode>('off');
  const views = useRef(new Set<BlameView>());
  const latest = useRef({ projectId, mode, onProblem });
  latest.current = { projectId, mode, onProblem };

  /** (Re)starts drawing `view`'s blame for its file and the current mode. */
  const watch = (view: BlameView) => {
    view.stop();
    const { file } = view;
    const { projectId: project, mode: current } = latest.current;
    if (current === 'off' || !file) {
      view.decorations?.show([], 'off');
      view.stop = () => {};
      return;
    }
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      trpc.history.blame.query({ projectId: project, fileId: file.fileId }).then((r) => {
        if (!cancelled) view.decorations?.show(r, current);
      }, (e: unknown) => !cancelled && latest.current.onProblem(`Blame: ${errorMessage(e)}`));
    };
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(load, REFRESH_AFTER_MS);
    };
    load();
    file.text.observe(changed);
    view.stop = () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      file.text.unobserve(changed);
    };
  };
  const watchRef = useRef(watch);
  watchRef.current = watch;

  useEffect(() => {
    for (const view of views.current) watchRef.current(view);
  }, [projectId, mode]);

  const feature: EditorFeature = useMemo(() => ({
    attach(editor: monaco.editor.IStandaloneCodeEditor) {
      const view: BlameView = { decorations: null, file: null, stop: () => {} };
      views.current.add(view);
      void import('@/lib/ide/editorChunk').then(({ BlameDecorations }) => {
        if (!views.current.has(view)) return;
        view.decorations = new BlameDecorations(editor);
        watchRef.current(view);
      });
      return {
        showFile(file) {
          view.file = file;
          watchRef.current(view);
        },
        dispose() {
          view.stop();
          view.decorations?.dispose();
          views.current.delete(view);
        },
      };
    },
  }), []);

  return { mode, setMode, feature };
}

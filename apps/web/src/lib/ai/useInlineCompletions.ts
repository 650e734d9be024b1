'use client';
import { useMemo, useRef } from 'react';
import type * as monaco from 'monaco-editor';
import type { TreeEntries } from '@/lib/ide/fileTree';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import type { InlineCompletionController } from './InlineCompletionController';
import type { EditorFeature } from '@/lib/ide/editorFeature';

/**
 * Wires inline completions into the IDE's editors without touching their internals: each editor is
 * attached (`feature`) and tells which file its shown model belongs to, and each editor's
 * controller (loaded in the browser only: Monaco needs `window`) asks for the open files' paths
 * through these.
 */
export function useInlineCompletions(projectId: string, entries: TreeEntries, readOnly: boolean) {
  const latest = useRef({ entries, readOnly });
  latest.current = { entries, readOnly };
  const fileOfModel = useRef(new Map<monaco.editor.ITextModel, string>());

  const feature: EditorFeature = useMemo(() => ({
    attach(editor) {
      let controller: InlineCompletionController | null = null;
      let disposed = false;
      void import('@/lib/ide/editorChunk').then(({ InlineCompletionController }) => {
        if (disposed) return;
        controller = new InlineCompletionController(editor, {
          projectId,
          canEdit: () => !latest.current.readOnly,
          openFiles: () => {
            const files = [];
            for (const [model, fileId] of fileOfModel.current) {
              if (model.isDisposed()) fileOfModel.current.delete(model);
              else files.push({ model, path: latest.current.entries.get(fileId)?.path ?? '' });
            }
            return files;
          },
        });
      });
      return {
        /** Remembers which file the shown model is. */
        showFile(file: FileConnection | null) {
          const model = editor.getModel();
          if (file && model) fileOfModel.current.set(model, file.fileId);
        },
        dispose() {
          disposed = true;
          controller?.dispose();
        },
      };
    },
  }), [projectId]);

  return { feature };
}

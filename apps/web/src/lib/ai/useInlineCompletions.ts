'use client';
import { useCallback, useEffect, useRef } from 'react';
import type * as monaco from 'monaco-editor';
import type { TreeEntries } from '@/lib/ide/fileTree';
import type { FileConnection } from '@/lib/ide/ProjectSession';
import type { InlineCompletionController } from './InlineCompletionController';

/**
 * Wires inline completions into the IDE's editor without touching its internals: the IDE hands
 * over the editor (`attachEditor`) and tells which file each shown model belongs to
 * (`showFile`), and the controller (loaded in the browser only: Monaco needs `window`) asks for
 * the open files' paths through these.
 */
export function useInlineCompletions(projectId: string, entries: TreeEntries, readOnly: boolean) {
  const latest = useRef({ entries, readOnly });
  latest.current = { entries, readOnly };
  const editorRef = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const fileOfModel = useRef(new Map<monaco.editor.ITextModel, string>());
  const controller = useRef<InlineCompletionController | null>(null);

  const attachEditor = useCallback((editor: monaco.editor.IStandaloneCodeEditor | null) => {
    controller.current?.dispose();
    controller.current = null;
    editorRef.current = editor;
    if (!editor) return;
    void import('./InlineCompletionController').then(({ InlineCompletionController }) => {
      if (editorRef.current !== editor) return;
      controller.current = new InlineCompletionController(editor, {
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
  }, [projectId]);

  /** Called when a file's model is shown: remembers which file the model is. */
  const showFile = useCallback((file: FileConnection | null) => {
    const model = editorRef.current?.getModel();
    if (file && model) fileOfModel.current.set(model, file.fileId);
  }, []);

  useEffect(() => () => controller.current?.dispose(), []);
  return { attachEditor, showFile };
}

import type * as monaco from 'monaco-editor';

/**
 * A read-only window hook for end-to-end tests: Monaco renders spaces as U+00A0 and virtualises
 * lines, so tests read the text from the editor model instead of the DOM. Nothing writes through it.
 */
export interface TandemTestHook {
  getValue(): string;
  activeFile(): string | null;
  readOnly(): boolean;
}

declare global {
  interface Window {
    __tandem?: TandemTestHook;
  }
}

export function installTestHook(current: () => { editor: monaco.editor.IStandaloneCodeEditor; activeFile: string | null }): () => void {
  const hook: TandemTestHook = {
    getValue: () => current().editor.getModel()?.getValue() ?? '',
    activeFile: () => current().activeFile,
    readOnly: () => current().editor.getRawOptions().readOnly === true,
  };
  window.__tandem = hook;
  return () => {
    if (window.__tandem === hook) delete window.__tandem;
  };
}

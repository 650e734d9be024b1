import type * as monaco from 'monaco-editor';

/**
 * The context sent with a completion request, trimmed to the server's budget
 * (COMPLETION_BUDGET in @tandem/api, repeated here because the browser may import types only):
 * the end of the prefix and the start of the suffix matter most; other open files contribute
 * their first lines.
 */
export const BUDGET = { prefixChars: 6000, suffixChars: 2000, relatedChars: 600, relatedFiles: 3, relatedLines: 40 } as const;

export interface OpenFile {
  model: monaco.editor.ITextModel;
  path: string;
}

export interface CompletionContextInput {
  path: string;
  language: string;
  prefix: string;
  suffix: string;
  related: { path: string; text: string }[];
}

export function completionContext(model: monaco.editor.ITextModel, offset: number, path: string, openFiles: readonly OpenFile[]): CompletionContextInput {
  const length = model.getValueLength();
  const at = (o: number) => model.getPositionAt(o);
  const range = (from: number, to: number) => ({
    startLineNumber: at(from).lineNumber, startColumn: at(from).column, endLineNumber: at(to).lineNumber, endColumn: at(to).column,
  });
  const prefix = model.getValueInRange(range(Math.max(0, offset - BUDGET.prefixChars), offset));
  const suffix = model.getValueInRange(range(offset, Math.min(length, offset + BUDGET.suffixChars)));
  const related = openFiles
    .filter((f) => f.model !== model && !f.model.isDisposed() && f.path)
    .slice(0, BUDGET.relatedFiles)
    .map((f) => {
      const lines = Math.min(f.model.getLineCount(), BUDGET.relatedLines);
      const text = f.model.getValueInRange({ startLineNumber: 1, startColumn: 1, endLineNumber: lines, endColumn: f.model.getLineMaxColumn(lines) });
      return { path: f.path, text: text.slice(0, BUDGET.relatedChars) };
    })
    .filter((r) => r.text.trim().length > 0);
  return { path, language: model.getLanguageId(), prefix, suffix, related };
}

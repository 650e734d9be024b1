/**
 * Monaco's inline-completions contribution (ghost text: the model, its view, Tab/Escape/Alt+]
 * commands; ~46 KiB gzipped), loaded only once an editor can show AI completions: the project has
 * an AI provider and this user may edit. Viewers and servers without a provider never download it.
 *
 * Editors that already exist when it loads get it through addNewContributions (editorContributions.ts).
 */
import { addNewContributions } from './editorContributions';
import { editor as monacoEditor } from './monaco';

let loading: Promise<void> | null = null;

export function loadInlineCompletions(): Promise<void> {
  loading ??= import('monaco-editor/editor/contrib/inlineCompletions/browser/inlineCompletions.contribution.js').then(() => {
    for (const editor of monacoEditor.getEditors()) addNewContributions(editor);
    // The keybinding resolver is cached: rebuild it so the new commands' keys (Tab, Escape…) apply.
    monacoEditor.addKeybindingRules([]);
  });
  return loading;
}

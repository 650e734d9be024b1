/**
 * Monaco's inline-completions contribution (ghost text: the model, its view, Tab/Escape/Alt+]
 * commands; ~46 KiB gzipped), loaded only once an editor can show AI completions: the project has
 * an AI provider and this user may edit. Viewers and servers without a provider never download it.
 *
 * Monaco gives each editor its contributions when it is created; editors that already exist when
 * this loads get the new ones here, the way their constructor would have (same instantiation
 * service, same editor). Later editors get them from the registry as usual.
 */
import { EditorExtensionsRegistry } from 'monaco-editor/editor/browser/editorExtensions.js';
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

/** The part of Monaco's CodeEditorContributions (per editor, private) this relies on; pinned to monaco-editor 0.57. */
interface EditorContributions {
  _instances: { get(id: string): unknown }; // a DisposableMap: get, no has
  _pending: Map<string, { id: string }>;
  _instantiateById(id: string): void;
}

function addNewContributions(editor: monacoEditor.ICodeEditor): void {
  const contributions = (editor as unknown as { _contributions?: EditorContributions })._contributions;
  if (typeof contributions?._instances?.get !== 'function' || !(contributions._pending instanceof Map) || typeof contributions._instantiateById !== 'function') {
    throw new Error('monaco-editor changed how editors hold their contributions: update inlineCompletionsFeature.ts');
  }
  for (const desc of EditorExtensionsRegistry.getEditorContributions()) {
    if (contributions._instances.get(desc.id) !== undefined || contributions._pending.has(desc.id)) continue;
    contributions._pending.set(desc.id, desc);
    contributions._instantiateById(desc.id);
  }
}

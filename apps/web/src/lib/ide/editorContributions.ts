/**
 * Monaco gives each editor its contributions when it is created. A contribution registered later
 * (a feature loaded on first use) reaches the editors that already exist only through this: it
 * hands them the new ones the way their constructor would have (same instantiation service, same
 * editor). Later editors get them from the registry as usual.
 */
import { EditorExtensionsRegistry } from 'monaco-editor/editor/browser/editorExtensions.js';

/** The part of Monaco's CodeEditorContributions (per editor, private) this relies on; pinned to monaco-editor 0.57. */
interface EditorContributions {
  _instances: { get(id: string): unknown }; // a DisposableMap: get, no has
  _pending: Map<string, { id: string }>;
  _instantiateById(id: string): void;
}

export function addNewContributions(editor: object): void {
  const contributions = (editor as { _contributions?: EditorContributions })._contributions;
  if (typeof contributions?._instances?.get !== 'function' || !(contributions._pending instanceof Map) || typeof contributions._instantiateById !== 'function') {
    throw new Error('monaco-editor changed how editors hold their contributions: update editorContributions.ts');
  }
  for (const desc of EditorExtensionsRegistry.getEditorContributions()) {
    if (contributions._instances.get(desc.id) !== undefined || contributions._pending.has(desc.id)) continue;
    contributions._pending.set(desc.id, desc);
    contributions._instantiateById(desc.id);
  }
}

import * as monaco from '@/lib/ide/monaco';
import { languageForPath } from '@tandem/protocol';

/**
 * Every Monaco model of one project, by path, at `file:///<path>` — so the TypeScript service sees
 * the project as a tree of files: imports resolve, and go to definition, find references and
 * diagnostics work across files. A model is either bound (an open tab: y-monaco keeps it equal to
 * the live document) or a shadow (a source file nobody here has open: its text comes from the
 * server, refreshed by `syncShadows`). Binding a path reuses its shadow; releasing a source file
 * keeps it as a shadow.
 */
export interface ShadowEdit {
  path: string;
  /** The file's text the edits apply to. */
  base: string;
  /** Offsets into `base`, not overlapping. */
  edits: { offset: number; length: number; text: string }[];
}

export class ProjectModels {
  readonly #models = new Map<string, monaco.editor.ITextModel>();
  readonly #bound = new Map<string, number>();
  #shadowPaths = new Set<string>();
  /** What each shadow held before an edit (the server applies edits only onto that text). */
  readonly #shadowText = new Map<string, string>();
  readonly #listeners = new Map<string, monaco.IDisposable>();
  #syncing = false;

  /**
   * @param onShadowEdit a shadow was edited in this tab (e.g. a rename across files): the edits
   *   must reach the shared document, or they would only exist here.
   */
  constructor(private readonly onShadowEdit: (edit: ShadowEdit) => void = () => {}) {}

  static uriOf(path: string): monaco.Uri {
    return monaco.Uri.file('/' + path);
  }

  static pathOf(uri: monaco.Uri): string | null {
    return uri.scheme === 'file' ? uri.path.replace(/^\//, '') : null;
  }

  /** The model for an open tab at `path` (y-monaco will set its text). */
  acquire(path: string): monaco.editor.ITextModel {
    this.#bound.set(path, (this.#bound.get(path) ?? 0) + 1);
    return this.#model(path, '');
  }

  release(path: string): void {
    const n = (this.#bound.get(path) ?? 1) - 1;
    if (n > 0) return void this.#bound.set(path, n);
    this.#bound.delete(path);
    if (!this.#shadowPaths.has(path)) this.#dispose(path);
  }

  /** The server's copy of the project's sources: shadows are created, updated or dropped to match. */
  syncShadows(files: { path: string; content: string }[]): void {
    const next = new Set(files.map((f) => f.path));
    this.#syncing = true;
    try {
      for (const f of files) {
        if (this.#bound.has(f.path)) continue; // the live document is the truth for open files
        const model = this.#model(f.path, f.content);
        if (model.getValue() !== f.content) model.setValue(f.content);
        this.#shadowText.set(f.path, f.content);
        this.#watch(f.path, model);
      }
    } finally {
      this.#syncing = false;
    }
    for (const path of this.#shadowPaths) if (!next.has(path) && !this.#bound.has(path)) this.#dispose(path);
    this.#shadowPaths = next;
  }

  dispose(): void {
    for (const path of [...this.#models.keys()]) this.#dispose(path);
    this.#bound.clear();
    this.#shadowPaths.clear();
  }

  #model(path: string, text: string): monaco.editor.ITextModel {
    let model = this.#models.get(path);
    if (!model || model.isDisposed()) {
      const uri = ProjectModels.uriOf(path);
      // Another project's IDE in this tab may have left one behind.
      monaco.editor.getModel(uri)?.dispose();
      model = monaco.editor.createModel(text, languageForPath(path), uri);
      this.#models.set(path, model);
    }
    return model;
  }

  /** Edits to a shadow that did not come from the server are passed on (see the constructor). */
  #watch(path: string, model: monaco.editor.ITextModel): void {
    if (this.#listeners.has(path)) return;
    this.#listeners.set(path, model.onDidChangeContent((e) => {
      if (this.#syncing || this.#bound.has(path)) return;
      const base = this.#shadowText.get(path);
      if (base === undefined) return;
      this.#shadowText.set(path, model.getValue());
      this.onShadowEdit({ path, base, edits: e.changes.map((c) => ({ offset: c.rangeOffset, length: c.rangeLength, text: c.text })) });
    }));
  }

  #dispose(path: string): void {
    this.#listeners.get(path)?.dispose();
    this.#listeners.delete(path);
    this.#shadowText.delete(path);
    this.#models.get(path)?.dispose();
    this.#models.delete(path);
  }
}

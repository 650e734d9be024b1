import * as monaco from '@/lib/ide/monaco';
import type { TreeEntries } from './fileTree';
import { EditorFileBinding } from './EditorFileBinding';
import { ProjectModels } from './ProjectModels';
import { CodeIntelligence, type CodeIntelligenceHost } from './CodeIntelligence';
import type { PythonLanguageClient } from './PythonLanguageClient';
import type { FileConnection, ProjectSession } from './ProjectSession';
import { installMonacoEnvironment } from './monacoEnvironment';

export const EDITOR_THEME = 'tandem-dark';

/**
 * What the editors of one project in this tab share, whichever group shows them: each open file's
 * model and live binding (a file open in both groups has one model, one binding and one undo
 * history), the code intelligence that sees every model, the Python language client, and the set
 * of editors, so remote cursors are drawn, and local carets published, in every editor that shows
 * a file. Each editor group (CodeEditor) acquires the files of its tabs and releases them.
 */
export class ProjectEditors {
  readonly models: ProjectModels;
  readonly #intelligence: CodeIntelligence;
  readonly #bindings = new Map<string, { binding: EditorFileBinding; users: number }>();
  readonly #editors = new Map<monaco.editor.IStandaloneCodeEditor, monaco.IDisposable>();
  readonly #rebound = new Set<(fileId: string) => void>();
  #python: PythonLanguageClient | Promise<void> | null = null;
  #disposed = false;

  constructor(private readonly projectId: string, private readonly session: ProjectSession, host: CodeIntelligenceHost) {
    installMonacoEnvironment();
    monaco.editor.defineTheme(EDITOR_THEME, {
      base: 'vs-dark',
      inherit: true,
      rules: [],
      colors: { 'editor.background': '#0f1115', 'editorGutter.background': '#0f1115', 'editor.lineHighlightBackground': '#161a21' },
    });
    this.models = new ProjectModels((edit) => void this.#intelligence.applyShadowEdit(edit));
    this.#intelligence = new CodeIntelligence(projectId, this.models, host);
  }

  /** An editor group's editor: it shows remote cursors and publishes its caret from now on. */
  addEditor(editor: monaco.editor.IStandaloneCodeEditor): void {
    for (const { binding } of this.#bindings.values()) binding.addEditor(editor);
    // The caret of whichever editor moved is this person's selection in the file it shows.
    this.#editors.set(editor, editor.onDidChangeCursorSelection(() => this.#bindingShownIn(editor)?.publishSelection(editor)));
  }

  removeEditor(editor: monaco.editor.IStandaloneCodeEditor): void {
    this.#editors.get(editor)?.dispose();
    this.#editors.delete(editor);
    for (const { binding } of this.#bindings.values()) binding.removeEditor(editor);
  }

  /** A tab opened in a group: its file's live binding (shared with the other group). */
  acquire(fileId: string, path: string): EditorFileBinding {
    const entry = this.#bindings.get(fileId);
    if (entry) {
      entry.users++;
      return entry.binding;
    }
    const binding = new EditorFileBinding(this.session.acquireFile(fileId), path, this.models);
    for (const editor of this.#editors.keys()) binding.addEditor(editor);
    this.#bindings.set(fileId, { binding, users: 1 });
    return binding;
  }

  release(fileId: string): void {
    const entry = this.#bindings.get(fileId);
    if (!entry || --entry.users > 0) return;
    entry.binding.dispose();
    this.session.releaseFile(fileId);
    this.#bindings.delete(fileId);
  }

  binding(fileId: string): EditorFileBinding | undefined {
    return this.#bindings.get(fileId)?.binding;
  }

  /** The file shown in `editor`, if any. */
  fileShownIn(editor: monaco.editor.IStandaloneCodeEditor): FileConnection | null {
    return this.#bindingShownIn(editor)?.file ?? null;
  }

  /** Files renamed or moved: their models move to the new paths; `listener` hears which file was rebound. */
  onRebound(listener: (fileId: string) => void): () => void {
    this.#rebound.add(listener);
    return () => this.#rebound.delete(listener);
  }

  /** The tree changed: rebind renamed files, and reload the project's sources shortly after. */
  treeChanged(entries: TreeEntries): void {
    for (const [fileId, { binding }] of this.#bindings) {
      const path = entries.get(fileId)?.path;
      if (path && binding.setPath(path)) for (const listener of this.#rebound) listener(fileId);
    }
  }

  refreshSources(): void {
    void this.#intelligence.refresh();
  }

  /** The Python language client starts the first time a Python file is shown. */
  pathShown(path: string | undefined): void {
    if (this.#python || !path || !/\.pyi?$/.test(path)) return;
    this.#python = import('./PythonLanguageClient').then(({ PythonLanguageClient }) => {
      if (this.#disposed) return;
      this.#python = new PythonLanguageClient(monaco, this.projectId, { pathOf: ProjectModels.pathOf, uriOf: ProjectModels.uriOf });
    });
  }

  dispose(): void {
    this.#disposed = true;
    for (const editor of [...this.#editors.keys()]) this.removeEditor(editor);
    for (const [fileId, { binding }] of this.#bindings) {
      binding.dispose();
      this.session.releaseFile(fileId);
    }
    this.#bindings.clear();
    this.#intelligence.dispose();
    if (this.#python && !(this.#python instanceof Promise)) this.#python.dispose();
    this.#python = null;
    this.models.dispose();
  }

  #bindingShownIn(editor: monaco.editor.IStandaloneCodeEditor): EditorFileBinding | undefined {
    const model = editor.getModel();
    if (!model) return undefined;
    for (const { binding } of this.#bindings.values()) if (binding.model === model) return binding;
    return undefined;
  }
}

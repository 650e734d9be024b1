import type { editor as MonacoEditor } from 'monaco-editor';
import type { FileConnection } from './ProjectSession';

/**
 * Something that draws in, or acts on, every editor of the IDE (AI edits, completions, blame):
 * each editor group's editor is attached once, and tells the attachment which file it shows.
 */
export interface EditorFeature {
  attach(editor: MonacoEditor.IStandaloneCodeEditor): EditorAttachment;
}

export interface EditorAttachment {
  /** The file now shown in this editor (its model is set), or null. */
  showFile(file: FileConnection | null): void;
  dispose(): void;
}

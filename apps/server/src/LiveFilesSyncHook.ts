import type { LiveProjectFiles } from '@tandem/api';
import type { ChangePayload, LoadDocumentPayload, SyncExtension } from '@tandem/collab';

/**
 * The SyncServer takes its extensions at construction, and the project files need the SyncServer
 * (to read live documents): this hook is handed to the SyncServer first and forwards document
 * loads and changes to the files once they exist (they keep decoded texts current and tell the
 * sandbox its working copy is out of date).
 */
export class LiveFilesSyncHook implements SyncExtension {
  files: LiveProjectFiles | null = null;

  onLoadDocument(payload: LoadDocumentPayload): Promise<void> | void {
    return this.files?.syncExtension.onLoadDocument?.(payload);
  }

  onChange(payload: ChangePayload): Promise<void> | void {
    return this.files?.syncExtension.onChange?.(payload);
  }

  /** Another node changed the project's documents: the next run or command re-copies the files. */
  changedElsewhere(projectId: string): void {
    this.files?.changedElsewhere(projectId);
  }
}

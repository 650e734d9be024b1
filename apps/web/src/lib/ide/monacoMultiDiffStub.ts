/**
 * Stands in for Monaco's multi-file diff editor widget (next.config.ts aliases it here): Monaco's
 * API module imports it for `createMultiFileDiffEditor`, which the IDE never calls (~11 KiB
 * gzipped). Calling it says so instead of failing obscurely.
 */
export class MultiDiffEditorWidget {
  constructor() {
    throw new Error('The multi-file diff editor is not part of the Tandem IDE.');
  }
}

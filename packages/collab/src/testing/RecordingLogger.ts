import type { SyncLogger } from '../SyncExtension.ts';

/** Keeps what the server logs so tests stay quiet and can assert on unexpected errors. */
export class RecordingLogger implements SyncLogger {
  readonly warnings: string[] = [];
  readonly errors: string[] = [];

  warn(message: string, error?: unknown): void {
    this.warnings.push(`${message}: ${describe(error)}`);
  }

  error(message: string, error?: unknown): void {
    this.errors.push(`${message}: ${describe(error)}`);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? '');
}

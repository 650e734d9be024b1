import { fileDocName } from '@tandem/protocol';
import type { SuggestionRecord } from './SuggestionRecord.ts';

/** The open suggestions in memory, by id and by the document they are anchored in. */
export class OpenSuggestions {
  readonly #byId = new Map<string, SuggestionRecord>();
  readonly #byDocument = new Map<string, Set<string>>();

  get(id: string): SuggestionRecord | undefined {
    return this.#byId.get(id);
  }

  values(): IterableIterator<SuggestionRecord> {
    return this.#byId.values();
  }

  inDocument(documentName: string): SuggestionRecord[] {
    return [...this.#byDocument.get(documentName) ?? []].flatMap((id) => this.#byId.get(id) ?? []);
  }

  hasDocument(documentName: string): boolean {
    return (this.#byDocument.get(documentName)?.size ?? 0) > 0;
  }

  /** The record still tracked (not retired by a project deletion), not a terminal one loaded for undo. */
  isCurrent(record: SuggestionRecord): boolean {
    return this.#byId.get(record.id) === record;
  }

  track(record: SuggestionRecord): void {
    this.#byId.set(record.id, record);
    const documentName = fileDocName(record.projectId, record.fileId);
    let ids = this.#byDocument.get(documentName);
    if (!ids) this.#byDocument.set(documentName, (ids = new Set()));
    ids.add(record.id);
  }

  retire(record: SuggestionRecord): void {
    this.#byId.delete(record.id);
    const documentName = fileDocName(record.projectId, record.fileId);
    const ids = this.#byDocument.get(documentName);
    ids?.delete(record.id);
    if (ids?.size === 0) this.#byDocument.delete(documentName);
  }
}

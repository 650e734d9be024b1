import { SuggestionService, type EventHub, type SuggestionDocuments } from '@tandem/api';
import type { ChangePayload, LoadDocumentPayload, SyncExtension } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';

/**
 * The SyncServer takes its extensions at construction, and the suggestion service needs the
 * SyncServer (to read and edit live documents): this hook is handed to the SyncServer first and
 * forwards to the service once it exists.
 */
export class SuggestionSyncHook implements SyncExtension {
  target: SyncExtension | null = null;

  onLoadDocument(payload: LoadDocumentPayload): Promise<void> | void {
    return this.target?.onLoadDocument?.(payload);
  }

  onChange(payload: ChangePayload): Promise<void> | void {
    return this.target?.onChange?.(payload);
  }
}

/**
 * Shared AI edits: the service, connected to the live documents; open suggestions are reloaded
 * (with several nodes, `perProject`: each project's when this node becomes its home).
 */
export async function createSuggestions(deps: { prisma: PrismaClient; hub: EventHub; sync: SuggestionDocuments; hook: SuggestionSyncHook; perProject?: boolean }): Promise<SuggestionService> {
  const service = new SuggestionService({ prisma: deps.prisma, hub: deps.hub, documents: deps.sync });
  deps.hook.target = service.syncExtension;
  if (!deps.perProject) await service.start();
  return service;
}

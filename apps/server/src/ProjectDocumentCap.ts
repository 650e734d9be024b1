import type { SyncExtension } from '@tandem/collab';
import type { PrismaClient } from '@tandem/db';
import { AppError, parseDocName } from '@tandem/protocol';

/**
 * Caps the stored documents of one project: a new file document (nothing stored yet) is refused
 * once the project has `max` stored documents, so an editor cannot create documents without end.
 * Documents of deleted files stay stored and count (a deleted file can come back through undo).
 * Runs first among the onLoadDocument hooks: a refused load stores nothing and closes its clients
 * with 4413; server-side creations (uploads, agents) fail with the same message.
 */
export class ProjectDocumentCap {
  constructor(private readonly prisma: PrismaClient, private readonly max: number) {}

  readonly extension: SyncExtension = {
    onLoadDocument: async ({ documentName, isNew }) => {
      if (!isNew) return;
      const ref = parseDocName(documentName);
      if (ref?.kind !== 'file') return;
      const stored = await this.prisma.document.count({ where: { projectId: ref.projectId } });
      if (stored >= this.max) throw new AppError('TOO_LARGE', `A project holds at most ${this.max} documents: this file cannot be created.`);
    },
  };
}

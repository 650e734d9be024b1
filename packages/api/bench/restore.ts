/**
 * Restore of a whole project: N files (default 1,000, ~1 KiB each), a checkpoint, every file
 * then changed, and the checkpoint restored through the production path (CheckpointService over
 * HistoryService over a SyncServer on PostgreSQL): one attributed forward edit per file plus the
 * tree, after the automatic "Before restoring" checkpoint. Target: ≤ 2 s for 1,000 files.
 * Run: `npm run bench -w @tandem/bench -- history` (after the trace benchmarks; RESTORE_FILES=N
 * changes the count; needs PostgreSQL).
 */
import { SyncServer } from '@tandem/collab';
import { PrismaDocumentStore } from '@tandem/db';
import { createPostgresTestDatabase } from '@tandem/db/testing';
import { loadavg } from 'node:os';
import { HistoryService } from '../src/history/HistoryService.ts';
import { LiveProjectFiles } from '../src/sandbox/LiveProjectFiles.ts';
import { FILE_TEXT, TREE_MAP, fileDocName, treeDocName, type TreeEntry } from '@tandem/protocol';

async function benchmarkRestore(files: number): Promise<{ checkpointMs: number; restoreMs: number; files: number }> {
  const db = await createPostgresTestDatabase();
  const history = new HistoryService(db.prisma);
  const sync = new SyncServer({
    store: history.claimsFirst(new PrismaDocumentStore(db.prisma, { rawQuery: db.rawQuery })),
    onAuthenticate: () => Promise.reject(new Error('no connections in this benchmark')),
    validateUpdate: history.validateUpdate,
    extensions: [history.extension],
  });
  try {
    const documents = history.over(sync);
    const liveFiles = new LiveProjectFiles(documents);
    history.readFilesFrom(liveFiles);
    const user = await db.prisma.user.create({ data: { email: 'restore@example.com', name: 'Rita', passwordHash: 'x' } });
    const project = await db.prisma.project.create({ data: { name: 'Restore bench' } });
    const by = { id: user.id, name: user.name };
    const ids = Array.from({ length: files }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const body = (i: number, version: string) => `// file ${i} ${version}\n${'export const value = 42; // padding to about a kilobyte\n'.repeat(18)}`;
    for (let i = 0; i < files; i += 16) {
      await Promise.all(ids.slice(i, i + 16).map((id, k) => documents.editDocument(fileDocName(project.id, id), (doc) => doc.getText(FILE_TEXT).insert(0, body(i + k, 'v1')), { user: by })));
    }
    await documents.editDocument(treeDocName(project.id), (doc) => {
      const tree = doc.getMap<TreeEntry>(TREE_MAP);
      ids.forEach((id, i) => tree.set(id, { path: `src/dir${i % 20}/file${i}.js`, kind: 'file' }));
    }, { user: by });
    const checkpoints = history.checkpoints!;
    let t = performance.now();
    const checkpoint = await checkpoints.create(project.id, 'v1', 'manual', by);
    const checkpointMs = performance.now() - t;
    for (let i = 0; i < files; i += 16) {
      await Promise.all(ids.slice(i, i + 16).map((id, k) => documents.editDocument(fileDocName(project.id, id), (doc) => {
        const text = doc.getText(FILE_TEXT);
        text.delete(0, text.length);
        text.insert(0, body(i + k, 'v2'));
      }, { user: by })));
    }
    t = performance.now();
    const result = await checkpoints.restore(project.id, checkpoint.id, by);
    const restoreMs = performance.now() - t;
    const sample = await liveFiles.text(project.id, ids[files - 1]!);
    if (sample !== body(files - 1, 'v1')) throw new Error('restore benchmark: the last file was not restored');
    return { checkpointMs, restoreMs, files: result.files };
  } finally {
    await sync.close();
    await db.destroy();
  }
}

const r = await benchmarkRestore(Number(process.env.RESTORE_FILES ?? 1000));
console.log(`restore a ${r.files}-file project (PostgreSQL): ${r.restoreMs.toFixed(0)} ms (target ≤ 2,000 ms; includes the automatic checkpoint before it); a checkpoint of it: ${r.checkpointMs.toFixed(0)} ms; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

/**
 * History benchmark: the fixture editing traces replayed through the attribution pipeline the
 * server runs per update (read once → DocumentHistory.admit → apply → record, the decoded form
 * shared), against apply alone and against the path before it read each update once; the size
 * of what history stores next to the update log; and the time to open a long file's history
 * (load the stored rows, blame every line). Run: `npm run bench -w @tandem/bench -- history`
 * (`--limit=N`: first N transactions of each trace, default 100,000). The restore of a 1,000-file
 * project runs after it, in @tandem/api (packages/api/bench/restore.ts). Targets: README.md.
 */
import { loadavg } from 'node:os';
import * as Y from 'yjs';
import { DocumentHistory, FileTimeline, blameLines, encodeDeletions, type HistoryChanges } from '@tandem/history';
import { readTrace } from './traces/EditingTrace.ts';

/** Typing pace assumed between transactions (the traces carry no times): 150 ms, a 5 min pause every 2,000. */
function timeOf(i: number): number {
  return i * 150 + Math.floor(i / 2000) * 300_000;
}

/** Bytes a stored row takes, roughly: PostgreSQL tuple header + columns (document name 80 B). */
const AUTHOR_ROW_BYTES = 24 + 80 + 8 + 40 + 10 + 40;
const SPAN_ROW_BYTES = 24 + 80 + 8 + 8 + 4 + 4 + 8 + 40;
/** A HistoryDeletion row without its data: header, document name, key, time, deleter, project id. */
const DELETION_ROW_BYTES = 24 + 80 + 50 + 8 + 40 + 40;

export async function runHistoryBenchmark(options: string[]): Promise<void> {
  const limitArg = options.find((o) => o.startsWith('--limit='));
  const limit = limitArg ? Number(limitArg.slice('--limit='.length)) : 100_000;
  const rows: string[][] = [];
  for (const name of ['automerge-paper', 'seph-blog1']) {
    const trace = readTrace(name, limit);
    const client = new Y.Doc();
    const text = client.getText('t');
    const updates: Uint8Array[] = [];
    client.on('update', (u: Uint8Array) => updates.push(u));
    text.insert(0, trace.startContent);
    trace.txns.forEach(({ patches }) => {
      client.transact(() => {
        for (const [position, deleteCount, insert] of patches) {
          if (deleteCount > 0) text.delete(position, deleteCount);
          if (insert) text.insert(position, insert);
        }
      });
    });
    // Three rounds, alternating, the fastest of each kept: a loaded machine's noise only adds time.
    let [applyMs, beforeMs, historyMs] = [Infinity, Infinity, Infinity];
    let server = new Y.Doc();
    let history = new DocumentHistory();
    for (let round = 0; round < 3; round++) {
      const plain = new Y.Doc();
      let t = performance.now();
      for (const u of updates) Y.applyUpdate(plain, u);
      applyMs = Math.min(applyMs, performance.now() - t);

      // As the server ran each update before: its whole-update check, admit, apply and record each read it.
      const before = new Y.Doc();
      const beforeHistory = new DocumentHistory();
      before.on('afterTransaction', (tr: Y.Transaction) => beforeHistory.captureDeleted(tr));
      t = performance.now();
      updates.forEach((u, i) => {
        Y.decodeUpdate(u);
        beforeHistory.admit(u, before, 'u1');
        Y.applyUpdate(before, u);
        beforeHistory.record(u, { userId: 'u1' }, timeOf(i));
      });
      beforeMs = Math.min(beforeMs, performance.now() - t);

      // As it runs now: read once (ClientUpdate), the decoded form handed to admit and record.
      server = new Y.Doc();
      history = new DocumentHistory();
      const captured = history;
      server.on('afterTransaction', (tr: Y.Transaction) => captured.captureDeleted(tr));
      t = performance.now();
      updates.forEach((u, i) => {
        const decoded = Y.decodeUpdate(u);
        history.admit(decoded, server, 'u1');
        Y.applyUpdate(server, u);
        history.record(decoded, { userId: 'u1' }, timeOf(i));
      });
      historyMs = Math.min(historyMs, performance.now() - t);
    }
    if (server.getText('t').toString() !== trace.endContent) throw new Error(`${name}: replay diverged`);
    const stored: HistoryChanges = history.takeDirty();
    // Attribution: authors, insert spans, deletion batches (ranges only); time travel adds the deleted text.
    const deletionSpans = stored.deletions.flatMap((b) => b.spans);
    const rangeBytes = stored.deletions.reduce((sum, b) => sum + encodeDeletions(b.spans.map((s) => ({ ...s, text: '' }))).length, 0);
    const textBytes = stored.deletions.reduce((sum, b) => sum + encodeDeletions(b.spans).length, 0) - rangeBytes;
    const historyBytes = stored.authors.length * AUTHOR_ROW_BYTES + stored.inserts.length * SPAN_ROW_BYTES + stored.deletions.length * DELETION_ROW_BYTES + rangeBytes;
    const logBytes = updates.reduce((sum, u) => sum + u.byteLength, 0);

    let t = performance.now();
    const reopened = new DocumentHistory({ authors: stored.authors, inserts: stored.inserts, deletions: stored.deletions });
    const ranges = blameLines(server.getText('t'), reopened);
    const openMs = performance.now() - t;
    // Time travel on a compacted copy (deleted content gone from the document): build the timeline, then view points.
    const compacted = new Y.Doc();
    Y.applyUpdate(compacted, Y.encodeStateAsUpdate(server));
    t = performance.now();
    const timeline = FileTimeline.build(compacted.getText('t'), reopened);
    const timelineMs = performance.now() - t;
    t = performance.now();
    const points = 20;
    for (let i = 0; i < points; i++) timeline.textAt(timeline.steps[Math.floor((i * timeline.steps.length) / points)]!.at);
    const pointMs = (performance.now() - t) / points;
    if (timeline.textAt(Infinity) !== trace.endContent) throw new Error(`${name}: time travel to now diverged`);

    rows.push([
      `${name} (${updates.length.toLocaleString('en')} edits)`,
      `${((applyMs * 1000) / updates.length).toFixed(1)} µs`, `${((beforeMs * 1000) / updates.length).toFixed(1)} µs`,
      `${((historyMs * 1000) / updates.length).toFixed(1)} µs`,
      `${(logBytes / 1024).toFixed(0)} KiB`,
      `${stored.inserts.length} ins spans + ${stored.deletions.length} del batches (${deletionSpans.length} spans), ${(historyBytes / 1024).toFixed(1)} KiB`,
      `${((historyBytes / logBytes) * 100).toFixed(1)} %`, `${(textBytes / 1024).toFixed(1)} KiB (${((textBytes / logBytes) * 100).toFixed(1)} %)`,
      `${openMs.toFixed(0)} ms (${ranges.length} ranges)`, `${timelineMs.toFixed(0)} ms (${timeline.steps.length} steps, ${timeline.sessions.length} sessions)`, `${pointMs.toFixed(1)} ms`,
    ]);
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const head = ['trace', 'apply / update', 'read ×3 + admit+apply+record (before)', 'read once + admit+apply+record (now)', 'update log', 'attribution rows', 'attribution / log', 'deleted text (time travel)', 'open history (load + blame)', 'open time travel', 'view a point'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  '));
}

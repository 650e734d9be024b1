import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as Y from 'yjs';
import { FILE_TEXT } from '@tandem/protocol';
import { anchorHunks, computeHunks, hunkStatus } from '@tandem/review';
import { restoreHunks, storedHunks, type SuggestionRecord } from './SuggestionRecord.ts';

const BASE = 'a\nb\nc\nd\n';

function recordOn(doc: Y.Doc): SuggestionRecord {
  const hunks = computeHunks(BASE, 'A\nb\nc\nD\n');
  const state = { status: 'ready' as const, attempt: 1, error: null, hunks: [{ decision: 'accepted' as const, approvals: ['u'], decidedBy: 'u' }, { decision: 'pending' as const, approvals: [], decidedBy: null, stale: true as const }] };
  return { baseText: BASE, hunks, anchored: anchorHunks(doc.getText(FILE_TEXT), 0, BASE, hunks), state, decidedAt: ['2026-01-01T00:00:00.000Z', null] } as unknown as SuggestionRecord;
}

test('hunks, reviews (stale included) and per-hunk anchors survive storage as JSON, and still resolve', () => {
  const doc = new Y.Doc();
  doc.getText(FILE_TEXT).insert(0, BASE);
  const record = recordOn(doc);
  const restored = restoreHunks(BASE, JSON.parse(JSON.stringify(storedHunks(record))), 'ready', 1, null);
  assert.deepEqual(restored.hunks, record.hunks);
  assert.deepEqual(restored.state, record.state);
  assert.deepEqual(restored.decidedAt, record.decidedAt);
  assert.deepEqual(restored.anchored.map((a) => ({ ...a, anchor: [...a.anchor.start, -1, ...a.anchor.end] })), record.anchored.map((a) => ({ ...a, anchor: [...a.anchor.start, -1, ...a.anchor.end] })));
  doc.getText(FILE_TEXT).insert(BASE.indexOf('d') + 1, 'x'); // inside the second hunk's line
  assert.deepEqual(restored.anchored.map((a) => hunkStatus(doc, a)), ['intact', 'stale'], 'the restored anchors are the live ones');
});

test('rows from before per-hunk anchors restore without them; a damaged anchor is refused', () => {
  const doc = new Y.Doc();
  doc.getText(FILE_TEXT).insert(0, BASE);
  const stored = JSON.parse(JSON.stringify(storedHunks(recordOn(doc)))) as Record<string, unknown>[];
  const legacy = stored.map(({ anchored: _a, ...rest }) => rest);
  assert.deepEqual(restoreHunks(BASE, legacy, 'ready', 1, null).anchored, []);
  const damaged = stored.map((h, i) => (i === 1 ? { ...h, anchored: { ...(h.anchored as object), removed: 'not these lines' } } : h));
  assert.throws(() => restoreHunks(BASE, damaged, 'ready', 1, null), { name: 'AppError', code: 'BAD_INPUT' });
  assert.throws(() => restoreHunks('other base', stored, 'ready', 1, null), { name: 'AppError', code: 'BAD_INPUT' });
});

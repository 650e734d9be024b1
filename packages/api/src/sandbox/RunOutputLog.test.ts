import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunOutputLog } from './RunOutputLog.ts';

test('snapshot(maxChars) keeps exactly the last maxChars characters with their streams and offsets', () => {
  const log = new RunOutputLog('r1', 1000);
  log.append({ stream: 'stdout', text: 'aaaa' });
  log.append({ stream: 'stderr', text: 'bbbb' });
  log.append({ stream: 'stdout', text: 'cc' });
  assert.deepEqual(log.snapshot(5), { runId: 'r1', chunks: [{ stream: 'stderr', text: 'bbb' }, { stream: 'stdout', text: 'cc' }], end: 10, omitted: 5 });
  assert.deepEqual(log.snapshot(2).chunks, [{ stream: 'stdout', text: 'cc' }]);
  assert.deepEqual(log.snapshot(), { runId: 'r1', chunks: [{ stream: 'stdout', text: 'aaaa' }, { stream: 'stderr', text: 'bbbb' }, { stream: 'stdout', text: 'cc' }], end: 10, omitted: 0 });
  // The kept window itself is bounded too: the stored tail never reaches past it.
  const small = new RunOutputLog('r2', 4);
  for (const t of ['12', '34', '56']) small.append({ stream: 'stdout', text: t });
  assert.deepEqual(small.snapshot(100), { runId: 'r2', chunks: [{ stream: 'stdout', text: '34' }, { stream: 'stdout', text: '56' }], end: 6, omitted: 2 });
});

// Runs under node:test (npm test -w @tandem/web); test files are never part of the browser bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompletionSession } from './CompletionSession.ts';

const metrics = { outcome: 'streaming' as const, ttftMs: 5, durationMs: 5, completionTokens: 1, tokensPerSecond: null, finishReason: null, errorKind: null };

test('typing the beginning of a completion reuses it; anything else drops it', () => {
  const before = 'function sum(a, b) {\n  return ';
  const s = new CompletionSession('r1', 'm1', before, true);
  assert.equal(s.remaining(before, true), '', 'nothing arrived yet');
  assert.equal(s.remaining(before + 'x', true), null, 'a keystroke before any text: not this completion');
  s.append('a + b;', metrics);
  assert.equal(s.remaining(before, true), 'a + b;');
  assert.equal(s.remaining(before + 'a +', true), ' b;');
  assert.equal(s.remaining(before + 'a + b;', true), '');
  assert.equal(s.remaining(before + 'a - ', true), null);
  assert.equal(s.remaining('function sum(a, b) {\n', true), null, 'cursor moved back');
});

test('edits above the cursor do not invalidate it; the anchor is text, not an offset', () => {
  const long = 'x'.repeat(500) + '\nconst total = ';
  const s = new CompletionSession('r1', 'm1', long.slice(-200), false);
  s.append('sum(1, 2);', metrics);
  const window = (text: string) => text.slice(-s.lookBehind);
  assert.equal(s.remaining(window('// a new line typed by someone else\n' + long + 'sum'), false), '(1, 2);');
});

test('near the top of the file the start of the file is part of the anchor', () => {
  const s = new CompletionSession('r1', 'm1', 'im', true);
  s.append('port x', metrics);
  assert.equal(s.remaining('im', true), 'port x');
  assert.equal(s.remaining('// im', true), null, 'same text, but not at the file start');
});

test('dismissed completions are not shown again; firstText resolves on text or end', async () => {
  const s = new CompletionSession('r1', 'm1', 'a', true);
  const first = s.firstText();
  s.append('b', metrics);
  await first;
  s.dismissed = true;
  assert.equal(s.remaining('a', true), null);
  const t = new CompletionSession('r2', 'm1', 'a', true);
  const waiting = t.firstText();
  t.finish('error', null, 'boom');
  await waiting;
  assert.deepEqual([t.state, t.error, t.running], ['error', 'boom', false]);
});

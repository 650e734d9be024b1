import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SearchWorkers } from './SearchWorkers.ts';
import type { SearchQuery } from './findMatches.ts';

const limits = { maxMatches: 100, maxMatchesPerFile: 100, previewChars: 80 };
const query = (pattern: string, extra: Partial<SearchQuery> = {}): SearchQuery => ({ pattern, regex: true, caseSensitive: true, wholeWord: false, include: '', exclude: '', ...extra });
const paths = (o: { files: { path: string }[] }) => o.files.map((f) => f.path);

test('a warm worker keeps keyed texts between searches and sees every change', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 });
  const files = [
    { path: 'a.js', key: 'id-a', content: 'const alpha = 1;\n' },
    { path: 'b.js', key: 'id-b', content: 'const beta = 2;\n' },
    { path: 'new.js', content: 'let alpha2;\n' },
  ];
  assert.deepEqual(paths(await workers.run('u', files, query('alpha'), limits, null)), ['a.js', 'new.js']);
  // Same texts again (the worker has them), then one changed and one renamed: results follow.
  assert.deepEqual(paths(await workers.run('u', files, query('beta'), limits, null)), ['b.js']);
  const changed = [{ ...files[0]!, content: 'const beta = 3;\n' }, { ...files[1]!, path: 'moved/b.js' }];
  assert.deepEqual(paths(await workers.run('u', changed, query('beta'), limits, null)), ['a.js', 'moved/b.js']);
});

test('searching the same list again sends only what changed: edited texts, unkeyed files, and a renamed file are all seen', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 });
  const files = [
    { path: 'a.js', key: 'id-a', content: 'const alpha = 1;\n' },
    { path: 'b.js', key: 'id-b', content: 'const beta = 2;\n' },
    { path: 'draft.js', content: 'let alpha2;\n' },
  ];
  assert.deepEqual(paths(await workers.run('u', files, query('alpha'), limits, null)), ['a.js', 'draft.js']);
  // The same paths and keys: a keyed text and the unkeyed one changed.
  const edited = [{ ...files[0]!, content: 'const omega = 1;\n' }, files[1]!, { ...files[2]!, content: 'let omega2;\n' }];
  assert.deepEqual(paths(await workers.run('u', edited, query('alpha'), limits, null)), []);
  assert.deepEqual(paths(await workers.run('u', edited, query('omega'), limits, null)), ['a.js', 'draft.js']);
  // As many files, one of them renamed: the new list is used.
  const renamed = [edited[0]!, { ...files[1]!, path: 'c.js' }, edited[2]!];
  assert.deepEqual(paths(await workers.run('u', renamed, query('beta'), limits, null)), ['c.js']);
  // Back to unchanged texts after the worker held others for those keys.
  assert.deepEqual(paths(await workers.run('u', files, query('alpha|beta'), limits, null)), ['a.js', 'b.js', 'draft.js']);
});

test('texts primed ahead of a search are what it searches; a text changed since is sent again', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 });
  const files = [{ path: 'a.js', key: 'id-a', content: 'const alpha = 1;\n' }, { path: 'b.js', key: 'id-b', content: 'const beta = 2;\n' }];
  workers.prime(files);
  assert.deepEqual(paths(await workers.run('u', files, query('alpha|beta'), limits, null)), ['a.js', 'b.js']);
  const later = [{ ...files[0]!, content: 'const gamma = 1;\n' }, files[1]!];
  assert.deepEqual(paths(await workers.run('u', later, query('alpha|gamma'), limits, null)), ['a.js']);
});

test('one match per line, plain (non-unicode) expressions, and the literal prefilter keep matches', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 5000 });
  const files = [{ path: 'a.js', key: 'k', content: 'x = {a} + {a};\nfunction f() {\n' }];
  const plain = await workers.run('u', files, query('f\\(\\) {', { unicode: false }), { ...limits, onePerLine: true }, null);
  assert.deepEqual(plain.files[0]!.matches.map((m) => m.line), [2]);
  const perLine = await workers.run('u', files, query('\\{a\\}'), { ...limits, onePerLine: true }, null);
  assert.equal(perLine.matchCount, 1);
  const all = await workers.run('u', files, query('\\{a\\}'), limits, null);
  assert.equal(all.matchCount, 2);
});

test('a search past its deadline is stopped, its worker replaced, and the next search works', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 300 });
  const files = [{ path: 'slow.txt', key: 's', content: `${'a'.repeat(40)}!` }];
  await assert.rejects(workers.run('u', files, query('(a+)+$'), limits, null), /longer than/);
  const after = await workers.run('u', files, query('!'), limits, null);
  assert.equal(after.matchCount, 1);
});

test('more searches at once than workers are refused; a newer search of the same owner replaces its older one', async () => {
  const workers = new SearchWorkers({ maxWorkers: 1, timeoutMs: 2000 });
  const slow = [{ path: 'slow.txt', content: `${'a'.repeat(40)}!` }];
  const first = workers.run('u', slow, query('(a+)+$'), limits, null);
  await assert.rejects(workers.run('v', slow, query('a'), limits, null), (e: Error & { code?: string }) => e.code === 'RATE_LIMITED');
  const second = workers.run('u', slow, query('!'), limits, null);
  await assert.rejects(first, /newer search/);
  assert.equal((await second).matchCount, 1);
});

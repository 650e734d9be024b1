import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fuzzyMatch, rankByFuzzy } from './fuzzyMatch.ts';

test('characters must appear in order', () => {
  assert.ok(fuzzyMatch('idx', 'src/index.ts'));
  assert.equal(fuzzyMatch('xdi', 'src/index.ts'), null);
  assert.equal(fuzzyMatch('zzz', 'src/index.ts'), null);
});

test('the base name and word starts beat scattered matches', () => {
  const files = ['src/components/utils/helpers.ts', 'src/utils.ts', 'docs/use-the-tool.md'];
  const ranked = rankByFuzzy(files, 'utils', (f) => f).map((r) => r.item);
  assert.equal(ranked[0], 'src/utils.ts');
  assert.deepEqual(rankByFuzzy(['a/FooBar.tsx', 'a/fxoxoxbxaxr.ts'], 'fb', (f) => f).map((r) => r.item)[0], 'a/FooBar.tsx');
});

test('matched indexes point at the query characters', () => {
  const m = fuzzyMatch('srv', 'apps/server/main.ts');
  assert.ok(m);
  assert.equal(m.indexes.map((i) => 'apps/server/main.ts'[i]).join(''), 'srv');
});

test('an empty query keeps the given order (recent files first)', () => {
  const ranked = rankByFuzzy(['b.ts', 'a.ts', 'c.ts'], '', (f) => f).map((r) => r.item);
  assert.deepEqual(ranked, ['b.ts', 'a.ts', 'c.ts']);
});

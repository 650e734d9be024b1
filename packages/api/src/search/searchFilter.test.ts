import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requiredLiteral } from './searchFilter.ts';

test('the sure literal of a pattern', () => {
  const cases: Array<[string, string]> = [
    ['v123_1[0-9]\\b', 'v123_1'],
    ['return a - b;', 'return a - b;'],
    ['colou?r', 'colo'],
    ['ab*cdef', 'cdef'],
    ['foo(bar)?baz', 'foo'],
    ['a.b.cde', 'cde'],
    ['\\.then\\(', '.then('],
    ['x{2,}yz', 'yz'],
    ['foo|barbaz', ''],
    ['[abc]+def', 'def'],
    ['\\x41BC', ''],
    ['\\bword\\b', 'word'],
    ['^export const', 'export const'],
  ];
  for (const [pattern, literal] of cases) assert.equal(requiredLiteral(pattern), literal, pattern);
});

test('the literal is in every file with a matching line (seeded: SEED=<n> replays)', () => {
  const seed = Number(process.env.SEED ?? Date.now() % 100_000);
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const alphabet = ['a', 'b', 'c', 'ab', 'abc', '.', '(', ')', '-', ' ', '\n', '\n', 'x1', '_', 'Z'];
  const patterns = [
    'abc', 'a.c', '^ab', 'c$', '^$', 'ab?c', 'a+b', '(ab)+c', '[a-c]{2}x', 'x1\\b', '\\(ab\\)', 'b(?=c)', 'b(?!c)', '(?<!a)b', 'a|Z',
    'a{2}b', 'x1{1,3}_', '\\d+_', 'ab\\.?c', 'ab*c', '\\bab', 'c\\s*\\(', 'Z.*Z', '^\\s*a', 'a\\nb', '[^a]b$', 'ab{0}c', '(?:ab|c)_',
  ];
  for (let n = 0; n < 3000; n++) {
    const text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => pick(alphabet)).join('');
    const pattern = pick(patterns);
    const re = new RegExp(pattern);
    const lineMatch = text.split('\n').some((line) => re.test(line));
    const literal = requiredLiteral(pattern);
    if (lineMatch) assert.ok(text.includes(literal), `seed ${seed}: /${pattern}/ matches a line of ${JSON.stringify(text)} without "${literal}"`);
  }
});

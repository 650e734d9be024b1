import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '@tandem/protocol';
import { EDIT_LIMITS, editRequest, finalCode, tokenBudget } from './editPrompt.ts';

test('the prompt carries the selection, trimmed context and the instruction; the model is asked for code only', () => {
  const before = 'x\n'.repeat(5000);
  const request = editRequest({ path: 'src/a.ts', language: 'typescript', instruction: 'add types', before, selected: 'let a = 1;\n', after: 'tail\n' });
  const user = request.messages.at(-1)!.content;
  assert.match(user, /<selected>\nlet a = 1;\n<\/selected>/);
  assert.match(user, /Instruction: add types/);
  assert.ok(user.length < EDIT_LIMITS.beforeChars + 1000, 'context trimmed to its budget');
  assert.match(request.messages[0]!.content, /ONLY the code/);
  assert.equal(request.maxTokens, 512);
  assert.throws(() => editRequest({ path: 'a', language: 'x', instruction: 'i', before: '', selected: 'a'.repeat(EDIT_LIMITS.maxSelectionChars + 1), after: '' }),
    (e: unknown) => e instanceof AppError && e.code === 'TOO_LARGE');
});

test('token budget grows with the selection and is capped', () => {
  assert.equal(tokenBudget(''), 512);
  assert.equal(tokenBudget('a'.repeat(3000)), 2000);
  assert.equal(tokenBudget('a'.repeat(40_000)), EDIT_LIMITS.maxTokens);
});

test('final code takes the base’s final newline (or its absence)', () => {
  assert.equal(finalCode('a\nb', 'x\ny\n'), 'a\nb\n');
  assert.equal(finalCode('a\nb\n', 'x\ny\n'), 'a\nb\n');
  assert.equal(finalCode('a\nb\n', 'x y'), 'a\nb');
  assert.equal(finalCode('', 'x\n'), '', 'an empty answer stays empty (it deletes the range)');
  assert.equal(finalCode('a', ''), 'a', 'an insertion point has no ending to match');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeLspMessage, LspMessageReader } from './lspFraming.ts';

test('messages split across chunks, several in one chunk and multi-byte text are read whole', () => {
  const got: unknown[] = [];
  const reader = new LspMessageReader(1024, (m) => got.push(m), (r) => assert.fail(r));
  const a = encodeLspMessage({ id: 1, text: 'héllo ✓' });
  const b = encodeLspMessage({ id: 2 });
  const all = Buffer.concat([a, b]);
  for (let i = 0; i < all.length; i += 3) reader.push(all.subarray(i, i + 3));
  assert.deepEqual(got, [{ id: 1, text: 'héllo ✓' }, { id: 2 }]);
});

test('an oversized message is refused from its header, before its body is buffered', () => {
  const errors: string[] = [];
  const reader = new LspMessageReader(100, () => assert.fail('no message expected'), (r) => errors.push(r));
  reader.push(Buffer.from('Content-Length: 1000000\r\n\r\n{'));
  assert.match(errors[0] ?? '', /exceeds 100/);
  reader.push(encodeLspMessage({ id: 1 }));
  assert.equal(errors.length, 1);
});

test('a header without Content-Length or an endless header is an error', () => {
  const errors: string[] = [];
  new LspMessageReader(100, () => {}, (r) => errors.push(r)).push(Buffer.from('X: 1\r\n\r\n{}'));
  new LspMessageReader(100, () => {}, (r) => errors.push(r)).push(Buffer.alloc(2000, 65));
  assert.deepEqual(errors, ['missing Content-Length', 'header too long']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeProjectPath, parseDocName, fileDocName, treeDocName, languageForPath, looksBinary, roleAtLeast, isFinalCloseCode, CLOSE_CODES } from './index.ts';

test('project paths are normalized and escapes refused', () => {
  assert.equal(normalizeProjectPath('/src//x.ts'), null);
  assert.equal(normalizeProjectPath('src/x.ts/'), 'src/x.ts');
  assert.equal(normalizeProjectPath('\\src\\x.ts'), 'src/x.ts');
  assert.equal(normalizeProjectPath('../etc/passwd'), null);
  assert.equal(normalizeProjectPath('a/./b'), null);
  assert.equal(normalizeProjectPath(''), null);
  assert.equal(normalizeProjectPath('a\u0000b'), null);
});

test('document names round-trip and reject anything else', () => {
  assert.deepEqual(parseDocName(treeDocName('p1')), { kind: 'tree', projectId: 'p1' });
  assert.deepEqual(parseDocName(fileDocName('p1', 'f-2')), { kind: 'file', projectId: 'p1', fileId: 'f-2' });
  assert.equal(parseDocName('p1/../p2/tree'), null);
  assert.equal(parseDocName('p1/tree/x'), null);
  assert.equal(parseDocName('p1/file/'), null);
});

test('languages, binary detection, roles, close codes', () => {
  assert.equal(languageForPath('src/a.tsx'), 'typescript');
  assert.equal(languageForPath('Dockerfile'), 'dockerfile');
  assert.equal(languageForPath('README'), 'plaintext');
  assert.equal(looksBinary(new Uint8Array([104, 0, 105])), true);
  assert.equal(looksBinary(new Uint8Array([0xff, 0xfe, 0x41])), true);
  assert.equal(looksBinary(new TextEncoder().encode('héllo')), false);
  assert.equal(roleAtLeast('owner', 'editor'), true);
  assert.equal(roleAtLeast('viewer', 'editor'), false);
  assert.equal(isFinalCloseCode(CLOSE_CODES.FORBIDDEN), true);
  assert.equal(isFinalCloseCode(CLOSE_CODES.RECONNECT), false);
});

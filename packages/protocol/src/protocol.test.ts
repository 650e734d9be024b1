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

test('agent transcript items map one-to-one onto ACP messages', async () => {
  const { toAcpUpdate } = await import('./agent.ts');
  const at = '2026-01-01T00:00:00.000Z';
  const tool = {
    seq: 2, at, kind: 'tool_call' as const, toolCallId: 'c1', name: 'read_file', title: 'Read a.ts', toolKind: 'read' as const,
    status: 'completed' as const, rawInput: { path: 'a.ts' }, locations: [{ path: 'a.ts' }], summary: '3 lines', resultChars: 40,
    durationMs: 1, command: null, turn: 1,
  };
  assert.deepEqual(toAcpUpdate('s', tool), {
    method: 'session/update',
    params: { sessionId: 's', update: { sessionUpdate: 'tool_call_update', toolCallId: 'c1', title: 'Read a.ts', kind: 'read', status: 'completed', rawInput: { path: 'a.ts' }, locations: [{ path: 'a.ts' }], content: [{ type: 'content', content: { type: 'text', text: '3 lines' } }] } },
  });
  assert.equal(toAcpUpdate('s', { ...tool, status: 'in_progress', summary: null })?.params && (toAcpUpdate('s', { ...tool, status: 'in_progress', summary: null }) as { params: { update: { sessionUpdate: string } } }).params.update.sessionUpdate, 'tool_call');
  assert.deepEqual(toAcpUpdate('s', { seq: 0, at, kind: 'agent_message', text: 'hi', turn: 1 }), { method: 'session/update', params: { sessionId: 's', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'hi' } } } });
  const permission = toAcpUpdate('s', { seq: 3, at, kind: 'permission', requestId: 'r', toolCallId: 'c2', command: 'ls', options: [{ optionId: 'allow', name: 'Allow', kind: 'allow_once' }], outcome: null });
  assert.equal(permission?.method, 'session/request_permission');
  assert.equal(toAcpUpdate('s', { seq: 4, at, kind: 'notice', text: 'x', author: null, tone: 'info' }), null);
  assert.deepEqual(toAcpUpdate('s', { seq: 5, at, kind: 'thought', text: 'hmm', turn: 1 }), { method: 'session/update', params: { sessionId: 's', update: { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'hmm' } } } });
  const entries = [{ content: 'Read', priority: 'high' as const, status: 'completed' as const }];
  assert.deepEqual(toAcpUpdate('s', { seq: 6, at, kind: 'plan', entries }), { method: 'session/update', params: { sessionId: 's', update: { sessionUpdate: 'plan', entries } } });
});

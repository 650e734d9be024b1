import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectHomeProcedures } from '@tandem/api';
import { projectOfCall, proceduresOf } from './ProjectCallRouter.ts';

test('the procedures of a tRPC URL, batched or not', () => {
  assert.deepEqual(proceduresOf('/api/trpc/suggestions.list?input=%7B%7D'), ['suggestions.list']);
  assert.deepEqual(proceduresOf('/api/trpc/suggestions.list,projects.get?batch=1'), ['suggestions.list', 'projects.get']);
  assert.deepEqual(proceduresOf('/api/trpc/%E0%A4%A'), [], 'undecodable: none');
});

test('a call belongs to the project its project-bound procedures name, if they agree', () => {
  const input = encodeURIComponent(JSON.stringify({ projectId: 'p1' }));
  assert.equal(projectOfCall(`/api/trpc/suggestions.list?input=${input}`, undefined, ['suggestions.list'], projectHomeProcedures), 'p1');
  assert.equal(projectOfCall('/api/trpc/sandbox.runs.start', JSON.stringify({ projectId: 'p2' }), ['sandbox.runs.start'], projectHomeProcedures), 'p2');
  const batch = JSON.stringify({ 0: { projectId: 'p3' }, 1: { id: 'x' }, 2: { projectId: 'p3' } });
  assert.equal(projectOfCall('/api/trpc/sandbox.status,projects.get,suggestions.list?batch=1', batch, ['sandbox.status', 'projects.get', 'suggestions.list'], projectHomeProcedures), 'p3');
  const mixed = JSON.stringify({ 0: { projectId: 'p3' }, 1: { projectId: 'p4' } });
  assert.equal(projectOfCall('/api/trpc/sandbox.status,suggestions.list?batch=1', mixed, ['sandbox.status', 'suggestions.list'], projectHomeProcedures), null, 'two projects: run where it is');
  assert.equal(projectOfCall('/api/trpc/sandbox.status', '{not json', ['sandbox.status'], projectHomeProcedures), null);
  assert.equal(projectOfCall('/api/trpc/sandbox.status', JSON.stringify({ projectId: 5 }), ['sandbox.status'], projectHomeProcedures), null);
  assert.equal(projectOfCall('/api/trpc/sandbox.status', undefined, ['sandbox.status'], projectHomeProcedures), null);
});

test('which procedures run on the project home is what the procedures declare', () => {
  for (const p of ['suggestions.acceptAll', 'sandbox.runs.start', 'sandbox.terminals.write', 'search.replace', 'search.undo', 'agent.start', 'agent.stop']) assert.ok(projectHomeProcedures.has(p), p);
  for (const p of ['projects.get', 'search.find', 'stream.events', 'auth.signIn', 'comments.create']) assert.ok(!projectHomeProcedures.has(p), p);
});

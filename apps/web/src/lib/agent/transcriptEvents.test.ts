import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentItem } from '@tandem/protocol';
import { applyEvent, type TranscriptEvent } from './transcriptEvents.ts';

const message = (seq: number, text: string): AgentItem => ({ kind: 'agent_message', seq, at: '', text, turn: 1 });
const delta = (seq: number, offset: number, text: string): TranscriptEvent => ({ kind: 'delta', delta: { runId: 'r', seq, offset, text } });
const textOf = (items: AgentItem[], seq: number) => (items[seq] as Extract<AgentItem, { kind: 'agent_message' }>).text;

test('a transcript loaded mid-stream ends up with the whole text, whichever events the snapshot already had', () => {
  const stream = ['Now I ', 'am plan', 'ning the ', 'change.'];
  let offset = 0;
  const events: TranscriptEvent[] = [{ kind: 'item', item: message(1, '') }];
  for (const piece of stream) {
    events.push(delta(1, offset, piece));
    offset += piece.length;
  }
  // Each cut: the snapshot has the events before it; every event from `from` on arrives while
  // it loads and is applied on top of it (events before the cut may arrive again).
  for (let cut = 0; cut <= events.length; cut++) {
    const snapshot = events.slice(0, cut).reduce(applyEvent, [message(0, 'task')]);
    for (let from = 0; from <= cut; from++) {
      const items = events.slice(from).reduce(applyEvent, snapshot);
      assert.equal(textOf(items, 1), stream.join(''), `snapshot after ${cut} events, replay from ${from}`);
    }
  }
});

test('a delta past what the message has (a gap) is not glued on', () => {
  const items = applyEvent([message(0, 'abc')], delta(0, 5, 'xyz'));
  assert.equal(textOf(items, 0), 'abc');
});

test('other items are replaced by their latest event', () => {
  const call = (status: 'in_progress' | 'completed'): AgentItem => ({
    kind: 'tool_call', seq: 0, at: '', toolCallId: 'c', name: 'read_file', title: 'Read a', toolKind: 'read', status, rawInput: {}, locations: [],
    summary: null, resultChars: 0, durationMs: null, command: null, turn: 1,
  });
  const events: TranscriptEvent[] = [{ kind: 'item', item: call('in_progress') }, { kind: 'item', item: call('completed') }];
  const items = events.reduce(applyEvent, []);
  assert.equal((items[0] as Extract<AgentItem, { kind: 'tool_call' }>).status, 'completed');
});

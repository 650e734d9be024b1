import type { AgentDeltaEvent, AgentItem } from '@tandem/protocol';

export type TranscriptEvent = { kind: 'item'; item: AgentItem } | { kind: 'delta'; delta: AgentDeltaEvent };

/**
 * One event on a transcript. Both kinds are safe to apply to a transcript that already has them:
 * an item replaces its seq, except that a message's text never shrinks (its add event can arrive
 * after a snapshot that had streamed further); a delta adds only the text past what the message
 * has (its offset says where it starts).
 */
export function applyEvent(items: AgentItem[], event: TranscriptEvent): AgentItem[] {
  const out = [...items];
  if (event.kind === 'item') {
    const { item } = event;
    const had = items[item.seq];
    const longer = had !== undefined && isText(had) && isText(item) && had.kind === item.kind && had.text.length > item.text.length && had.text.startsWith(item.text);
    out[item.seq] = longer ? had : item;
    return out;
  }
  const { seq, offset, text } = event.delta;
  const item = items[seq];
  if (!item || !isText(item) || offset > item.text.length || offset + text.length <= item.text.length) return items;
  out[seq] = { ...item, text: item.text + text.slice(item.text.length - offset) };
  return out;
}

/** Items whose text streams in through deltas: the model's messages and an external agent's thoughts. */
function isText(item: AgentItem): item is Extract<AgentItem, { kind: 'agent_message' | 'thought' }> {
  return item.kind === 'agent_message' || item.kind === 'thought';
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './SseParser.ts';

function parseAll(chunks: readonly string[]): Array<[string, string]> {
  const parser = new SseParser();
  const out: Array<[string, string]> = [];
  const on = (data: string, event: string): void => {
    out.push([data, event]);
  };
  for (const c of chunks) parser.push(c, on);
  parser.end(on);
  return out;
}

test('parses data events, comments, multi-line data, event names and field quirks', () => {
  const stream = [
    ': keep-alive',
    '',
    'data: {"a":1}',
    '',
    'data:no-space',
    '',
    'data: line1',
    'data: line2',
    'id: 7',
    'retry: 100',
    '',
    'event: error',
    'data: {"error":{}}',
    '',
    'data',
    '',
    'unknownfield: ignored',
    '',
    'data: [DONE]',
    '',
    '',
  ].join('\n');
  assert.deepEqual(parseAll([stream]), [
    ['{"a":1}', 'message'],
    ['no-space', 'message'],
    ['line1\nline2', 'message'],
    ['{"error":{}}', 'error'],
    ['', 'message'],
    ['[DONE]', 'message'],
  ]);
});

test('CRLF, lone CR and mixed line endings give the same events', () => {
  const events = ['data: x', '', 'data: y', 'data: z', '', ''];
  const expected = [['x', 'message'], ['y\nz', 'message']];
  assert.deepEqual(parseAll([events.join('\n')]), expected);
  assert.deepEqual(parseAll([events.join('\r\n')]), expected);
  assert.deepEqual(parseAll([events.join('\r')]), expected);
  // CRLF split exactly between CR and LF must not produce an extra blank line (event boundary).
  assert.deepEqual(parseAll(['data: y\r', '\ndata: z\r', '\n\r', '\n']), [['y\nz', 'message']]);
});

test('a final event without its blank line is still delivered at end of stream', () => {
  assert.deepEqual(parseAll(['data: a\n\ndata: [DONE]']), [['a', 'message'], ['[DONE]', 'message']]);
});

/** Small deterministic PRNG (mulberry32) so a failing split replays from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('any split of the byte stream into chunks yields the same events (randomized, seeded)', () => {
  const seed = Number(process.env.SSE_SEED ?? Date.now() % 1_000_000);
  const rand = random(seed);
  const eols = ['\n', '\r\n', '\r'];
  for (let round = 0; round < 200; round++) {
    const eol = eols[Math.floor(rand() * eols.length)]!;
    const expected: Array<[string, string]> = [];
    let text = '';
    const events = 1 + Math.floor(rand() * 20);
    for (let i = 0; i < events; i++) {
      if (rand() < 0.2) text += `: ping${eol}${eol}`;
      const lines = 1 + Math.floor(rand() * 3);
      const parts: string[] = [];
      for (let l = 0; l < lines; l++) {
        const value = `{"t":"tok${i}.${l} é✓"}`;
        parts.push(value);
        text += `data: ${value}${eol}`;
      }
      text += eol;
      expected.push([parts.join('\n'), 'message']);
    }
    const chunks: string[] = [];
    for (let pos = 0; pos < text.length;) {
      const size = 1 + Math.floor(rand() * 12);
      chunks.push(text.slice(pos, pos + size));
      pos += size;
    }
    assert.deepEqual(parseAll(chunks), expected, `seed ${seed} (replay with SSE_SEED=${seed}), round ${round}`);
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PreviewTokens } from './PreviewTokens.ts';

describe('PreviewTokens', () => {
  let now = 1_000_000;
  const tokens = new PreviewTokens('a'.repeat(40), () => now);
  const claims = { kind: 'ticket' as const, projectId: 'p1', port: 5173, userId: 'u1', exp: now + 60_000 };

  it('round-trips, and only for the kinds asked for', () => {
    const t = tokens.sign(claims);
    assert.deepEqual(tokens.verify(t, ['ticket']), claims);
    assert.equal(tokens.verify(t, ['session', 'share']), null);
  });

  it('refuses tampered, foreign-key, malformed and expired tokens', () => {
    const t = tokens.sign(claims);
    const [body, mac] = t.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['ticket', 'p2', 5173, 'u1', claims.exp])).toString('base64url');
    assert.equal(tokens.verify(`${forged}.${mac}`, ['ticket']), null);
    assert.equal(tokens.verify(`${body}.${mac.slice(0, -2)}xx`, ['ticket']), null);
    assert.equal(new PreviewTokens('b'.repeat(40), () => now).verify(t, ['ticket']), null);
    for (const bad of ['', 'x', '.', 'a.b', `${body}`, 'x'.repeat(5000)]) assert.equal(tokens.verify(bad, ['ticket']), null, bad);
    now += 60_001;
    assert.equal(tokens.verify(t, ['ticket']), null);
  });
});

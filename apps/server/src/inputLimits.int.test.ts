// Size limits on the API's inputs: every zod input of every procedure bounds its strings and arrays
// (checked by walking the schemas), and over HTTP an oversized body is refused with 413 before it
// is parsed, an oversized field with 400 and a message naming the limit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { appRouter } from '@tandem/api';
import { loadEnv } from './env.ts';
import { startTandemServer, type TandemServer } from './TandemServer.ts';
import { signUpOverHttp, type SignedIn } from './testing/clients.ts';

/** The standalone tRPC handler's maxBodySize in TandemServer. */
const MAX_BODY = 2 * 1024 * 1024;

interface ZodNode {
  _zod: { def: { type: string; checks?: { _zod: { def: { check: string } } }[]; format?: string } & Record<string, unknown> };
}

/** String formats whose values have a fixed maximum length, so they need no `.max()`. */
const BOUNDED_FORMATS = new Set(['uuid', 'guid', 'datetime', 'date', 'time', 'cuid', 'cuid2', 'ulid', 'nanoid']);

/** Paths inside `schema` that accept a string, array or map of unbounded size. */
function unboundedParts(schema: ZodNode, path = '$'): string[] {
  const def = schema._zod.def;
  const hasMax = () => (def.checks ?? []).some((c) => ['max_length', 'length_equals', 'max_size', 'size_equals'].includes(c._zod.def.check));
  const inner = (key: string) => def[key] as ZodNode;
  switch (def.type) {
    case 'string':
      return hasMax() || (def.format !== undefined && BOUNDED_FORMATS.has(def.format)) ? [] : [path];
    case 'array':
      return [...(hasMax() ? [] : [path]), ...unboundedParts(inner('element'), `${path}[]`)];
    case 'object':
      return Object.entries(def.shape as Record<string, ZodNode>).flatMap(([key, value]) => unboundedParts(value, `${path}.${key}`));
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return unboundedParts(inner('innerType'), path);
    case 'union':
      return (def.options as ZodNode[]).flatMap((option, i) => unboundedParts(option, `${path}|${i}`));
    case 'pipe':
      return [...unboundedParts(inner('in'), path), ...unboundedParts(inner('out'), path)];
    case 'number': case 'int': case 'boolean': case 'enum': case 'literal': case 'null': case 'undefined': case 'date': case 'bigint': case 'transform':
      return [];
    default: // record, map, set, any, unknown, tuple with rest, lazy…: not allowed in API inputs
      return [`${path} (${def.type})`];
  }
}

describe('every procedure input bounds its sizes', () => {
  test('the schema walk finds unbounded strings, arrays and records', () => {
    const walk = (s: z.ZodType) => unboundedParts(s as unknown as ZodNode);
    assert.deepEqual(walk(z.object({ a: z.string(), b: z.array(z.string().max(3)), c: z.string().max(5).optional() })), ['$.a', '$.b']);
    assert.deepEqual(walk(z.object({ r: z.record(z.string(), z.number()), u: z.uuid(), n: z.array(z.number()).max(2) })), ['$.r (record)']);
  });

  test('no procedure accepts an unbounded string, array or record', () => {
    const procedures = (appRouter as unknown as { _def: { procedures: Record<string, { _def: { inputs: ZodNode[] } }> } })._def.procedures;
    assert.ok(Object.keys(procedures).length > 30, 'the walk sees the whole router');
    const unbounded = Object.entries(procedures).flatMap(([name, p]) => p._def.inputs.flatMap((input) => unboundedParts(input).map((part) => `${name} ${part}`)));
    assert.deepEqual(unbounded, []);
  });
});

describe('oversized requests over HTTP', () => {
  let dataDir: string;
  let server: TandemServer;
  let owner: SignedIn;
  let projectId: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tandem-limits-'));
    server = await startTandemServer(loadEnv({ PORT: '0', HOST: '127.0.0.1', TANDEM_DATA_DIR: dataDir, COOKIE_SECURE: 'false' }, []), { withWeb: false });
    owner = await signUpOverHttp(server.url, 'Owner');
    projectId = (await owner.api.projects.create.mutate({ name: 'Limits' })).id;
  });
  after(async () => {
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (path: string, body: string, cookie?: string) =>
    fetch(`${server.url}/api/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) }, body });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { message: string; data: { code: string } } }).error;

  test('a body over 2 MiB is refused with 413 PAYLOAD_TOO_LARGE, signed in or not', async () => {
    const body = JSON.stringify({ email: 'big@example.com', password: 'tandem-test-password', name: 'x'.repeat(MAX_BODY) });
    for (const cookie of [undefined, owner.cookie]) {
      const res = await post('auth.signUp', body, cookie);
      assert.equal(res.status, 413);
      const error = await errorOf(res);
      assert.equal(error.data.code, 'PAYLOAD_TOO_LARGE');
      assert.match(error.message, /too large/i);
    }
  });

  test('an oversized string field is refused with 400 naming the limit; the rest of the API is unaffected', async () => {
    const res = await post('projects.create', JSON.stringify({ name: 'p'.repeat(100_000) }), owner.cookie);
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.equal(error.data.code, 'BAD_REQUEST');
    assert.match(error.message, /100/, 'the message names the maximum');

    const prefix = 'x'.repeat(64_001); // ai.complete's prefix allows 64,000 characters
    const completion = { projectId, tabId: 'tab', requestId: 'req', path: 'a.js', language: 'javascript', prefix, suffix: '' };
    const tooLong = await post('ai.complete', JSON.stringify(completion), owner.cookie);
    assert.equal(tooLong.status, 400);
    assert.match((await errorOf(tooLong)).message, /64000/);

    const related = Array.from({ length: 9 }, () => ({ path: 'b.js', text: 'b' }));
    const tooMany = await post('ai.complete', JSON.stringify({ ...completion, prefix: 'x', related }), owner.cookie);
    assert.equal(tooMany.status, 400, 'arrays are bounded too');

    assert.equal((await owner.api.projects.list.query()).length, 1, 'nothing was created; the API still answers');
  });
});

// The Python language server over the real server: a real pyright in the project's sandbox, fed
// the live Yjs documents (a y-websocket client types; every attached tab gets the diagnostics),
// answering hover / completion / definition over a real WebSocket; members only; capped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { FILE_TEXT, LSP_PYTHON_PATH_PREFIX, TREE_MAP, fileDocName, lspUriOf, treeDocName, type TreeEntry } from '@tandem/protocol';
import type { TandemServer } from './TandemServer.ts';
import { startTestServer } from './testing/testServer.ts';
import { connectSync, signUpOverHttp, waitFor, type SignedIn } from './testing/clients.ts';
import { processesMatching } from '@tandem/sandbox/testing';

let running: Awaited<ReturnType<typeof startTestServer>>;
let server: TandemServer;
let owner: SignedIn;
let viewer: SignedIn;
let stranger: SignedIn;
let projectId: string;

before(async () => {
  // One server at a time on this host, stopped 2 s after its last tab leaves.
  running = await startTestServer('lsp', { TANDEM_LSP_MAX_SERVERS: '1', TANDEM_LSP_IDLE_SECONDS: '2' });
  server = running.server;
  [owner, viewer, stranger] = await Promise.all([signUpOverHttp(server.url, 'Owner'), signUpOverHttp(server.url, 'Viewer'), signUpOverHttp(server.url, 'Stranger')]);
  projectId = (await owner.api.projects.create.mutate({ name: 'Py', template: 'python' })).id;
  const inv = await owner.api.invites.create.mutate({ projectId, role: 'viewer' });
  await viewer.api.invites.accept.mutate({ token: inv.token });
  await server.sync.editDocument(fileDocName(projectId, 'util'), (doc) => doc.getText(FILE_TEXT).insert(0, 'def helper(n: int) -> int:\n    return n * 2\n'));
  await server.sync.editDocument(treeDocName(projectId), (doc) => doc.getMap<TreeEntry>(TREE_MAP).set('util', { path: 'pkg/util.py', kind: 'file' }));
});
after(() => running?.close());

interface LspTab {
  ws: WebSocket;
  messages: { id?: number; method?: string; params?: { uri: string; diagnostics: { message: string }[] }; result?: unknown; error?: { message: string } }[];
  closed: Promise<{ code: number; reason: string }>;
  request(id: number, method: string, params: object): Promise<LspTab['messages'][number]>;
}

function openTab(who: SignedIn, id = projectId): Promise<LspTab> {
  const ws = new WebSocket(server.url.replace(/^http/, 'ws') + LSP_PYTHON_PATH_PREFIX + id, { headers: { cookie: who.cookie } });
  const tab: LspTab = {
    ws,
    messages: [],
    closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    async request(reqId, method, params) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: reqId, method, params }));
      await waitFor(() => tab.messages.some((m) => m.id === reqId), `the answer to ${method}`, 60_000);
      return tab.messages.find((m) => m.id === reqId)!;
    },
  };
  ws.on('message', (data) => tab.messages.push(JSON.parse(data.toString()) as LspTab['messages'][number]));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(tab));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const mainUri = lspUriOf('main.py');
const diagnosticsOf = (tab: LspTab, uri: string) => tab.messages.filter((m) => m.method === 'textDocument/publishDiagnostics' && m.params?.uri === uri).at(-1)?.params?.diagnostics;

test('pyright in the sandbox sees what people type: both tabs get the diagnostic; hover, completion and definition across files answer the tab that asked', async () => {
  const [a, b] = await Promise.all([openTab(owner), openTab(viewer)]);
  try {
    // Someone types into main.py through the sync server (not through the language server socket).
    const tree = connectSync(server.url, treeDocName(projectId), { cookie: owner.cookie });
    await tree.synced;
    const mainId = [...tree.doc.getMap<TreeEntry>(TREE_MAP).entries()].find(([, e]) => e.path === 'main.py')![0];
    tree.destroy();
    const file = connectSync(server.url, fileDocName(projectId, mainId), { cookie: owner.cookie });
    await file.synced;
    file.text.insert(0, 'from pkg.util import helper\ncount: int = "three"\nhelper(2)\n');
    for (const tab of [a, b]) {
      await waitFor(() => (diagnosticsOf(tab, mainUri) ?? []).some((d) => /"Literal\['three'\]" is not assignable/.test(d.message)), 'the type error on every tab', 90_000);
    }
    // Fixed by the same person: the diagnostic disappears for everyone.
    file.text.delete(file.text.toString().indexOf('"three"'), '"three"'.length);
    file.text.insert(file.text.toString().indexOf('count: int = ') + 'count: int = '.length, '3');
    for (const tab of [a, b]) await waitFor(() => diagnosticsOf(tab, mainUri)?.length === 0, `the cleared diagnostics (${JSON.stringify(diagnosticsOf(tab, mainUri))} in ${JSON.stringify(file.text.toString())})`, 60_000);

    const lines = file.text.toString().split('\n');
    const greetLine = lines.findIndex((l) => l.startsWith('def greet'));
    const hover = await b.request(1, 'textDocument/hover', { textDocument: { uri: mainUri }, position: { line: greetLine, character: 5 } });
    assert.match(JSON.stringify(hover.result), /greet\(name: str\) -> str/);
    assert.equal(a.messages.some((m) => m.id === 1), false, 'the answer went to the asking tab only');

    const helperLine = lines.findIndex((l) => l.startsWith('helper(2)'));
    const definition = await a.request(2, 'textDocument/definition', { textDocument: { uri: mainUri }, position: { line: helperLine, character: 2 } });
    assert.match(JSON.stringify(definition.result), /file:\/\/\/project\/pkg\/util\.py/);

    file.text.insert(file.text.length, 'greet("x").upp');
    await new Promise((r) => setTimeout(r, 500)); // the change reaches pyright (debounced)
    const last = file.text.toString().split('\n').length - 1;
    const completion = await a.request(3, 'textDocument/completion', { textDocument: { uri: mainUri }, position: { line: last, character: 'greet("x").upp'.length } });
    assert.match(JSON.stringify(completion.result), /"label":"upper"/);
    file.destroy();
  } finally {
    a.ws.close();
    b.ws.close();
  }
});

test('non-members and anonymous callers are refused before the upgrade; tabs may only ask questions about the project\'s Python files; sizes and rates are capped', async () => {
  await assert.rejects(openTab(stranger), /refused: 404/);
  await assert.rejects(openTab({ ...stranger, cookie: '' }), /refused: 401/);
  await assert.rejects(openTab(owner, 'no-such-project'), /refused: 404/);

  const tab = await openTab(viewer);
  try {
    const edit = await tab.request(10, 'textDocument/didChange', { textDocument: { uri: mainUri } });
    assert.match(edit.error?.message ?? '', /not allowed/);
    const outside = await tab.request(11, 'textDocument/hover', { textDocument: { uri: 'file:///etc/passwd' }, position: { line: 0, character: 0 } });
    assert.match(outside.error?.message ?? '', /Not a Python file of this project/);
    // A burst past the bucket gets refusals, not a stalled server.
    for (let i = 0; i < 60; i++) tab.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'textDocument/hover', params: { textDocument: { uri: mainUri }, position: { line: 0, character: 1 } } }));
    await waitFor(() => tab.messages.filter((m) => m.id !== undefined && m.id >= 100).length === 60, 'an answer to every request', 60_000);
    assert.ok(tab.messages.some((m) => /Too many/.test(m.error?.message ?? '')), 'some requests were refused');
    tab.ws.send('x'.repeat(70 * 1024));
    assert.equal((await tab.closed).code, 1009, 'an oversized frame closes the socket');
  } finally {
    tab.ws.close();
  }
});

test('one server per host here: another project waits its turn; a server nobody uses is stopped (its sandboxed process is gone)', async () => {
  const other = (await owner.api.projects.create.mutate({ name: 'Py2', template: 'python' })).id;
  const keep = await openTab(owner);
  const refused = await openTab(owner, other);
  assert.deepEqual(await refused.closed, { code: 4429, reason: 'Too many Python language servers are running on this server; try again later.' });
  keep.ws.close();
  await waitFor(() => server.languageServers.running().length === 0, 'the idle server to stop', 30_000);
  assert.deepEqual(processesMatching('langserver.index.js'), []);
  const next = await openTab(owner, other);
  await waitFor(() => next.messages.some((m) => m.method === 'textDocument/publishDiagnostics'), 'the other project\'s diagnostics', 90_000);
  next.ws.close();
});

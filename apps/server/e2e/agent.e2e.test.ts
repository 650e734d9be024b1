import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { OpenAITestServer, type ScriptedTurn } from '@tandem/inference/testing';
import { editorValue, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, trpc, waitFor as waitForDefault, type RunningServer } from './harness.ts';

/**
 * An agent run in three real browsers: A starts a run from the Agent panel, B and C watch it
 * stream (text, and tool calls while their arguments are generated), B steers mid-run, the agent
 * runs the project's tests in the sandbox, B and C see its pending changes drawn in their
 * editors, C (viewer) has no steering or review controls, A accepts two files and rejects one,
 * every editor shows the result, and Undo reverts it. The model is the OpenAI test double scripting tool calls.
 */
declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

const GREET = 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n';
const STEERED = 'export function greet(name) {\n  return `Hello, ${name.trim()}!`;\n}\n';
const UNSTEERED = 'export function greet(name) {\n  return "Hello, " + name + "!";\n}\n';
const TEST = "import { greet } from './src/greet.js';\nif (greet(' Ann ') !== 'Hello, Ann!') { console.error('greet does not trim'); process.exit(1); }\nconsole.log('1 passed, 0 failed');\n";
const call = (name: string, args: unknown) => ({ name, arguments: JSON.stringify(args) });

let upstream: OpenAITestServer;
let server: RunningServer;
let browser: Browser;

before(async () => {
  upstream = new OpenAITestServer({
    ttftMs: 100,
    tokensPerSecond: 25,
    turns: (request, n): ScriptedTurn => {
      const msgs = request.body!.messages as Array<{ role: string; content: string }>;
      const steered = msgs.some((m) => m.role === 'user' && m.content.includes('trim'));
      switch (n) {
        case 0: return { content: 'I will read greet.js first.', toolCalls: [call('read_file', { path: 'src/greet.js' })] };
        // Slow (≈4 s): B steers while this streams.
        case 1: return { content: 'Now I am planning the change to greet and a test for it. '.repeat(4), toolCalls: [call('list_files', {})] };
        case 2: return {
          content: steered ? 'Trimming the name, as Bea asked.' : 'Changing greet.',
          toolCalls: [
            call('write_file', { path: 'src/greet.js', content: steered ? STEERED : UNSTEERED }),
            call('create_file', { path: 'test.js', content: TEST }),
            call('create_file', { path: 'NOTES.md', content: '# Notes\n\nAgent was here.\n' }),
          ],
        };
        case 3: return { toolCalls: [call('run_command', { command: 'node test.js' })] };
        default: return { content: 'Done.', toolCalls: [call('finish', { summary: 'greet trims the name; test added' })] };
      }
    },
  });
  const baseUrl = await upstream.listen();
  server = await startServerProcess({ OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'qwen3-coder-480b', OPENAI_LABEL: 'Test model' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
  if (server) removeDir(server.dataDir);
});

const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => waitForDefault(what, check, timeoutMs);


async function join(name: string, email: string, inviteUrl: string, projectUrl: string, errors: string[]) {
  const u = await newUser(browser, server.url);
  u.page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  await signUp(u.page, name, email, new URL(inviteUrl).pathname);
  await u.page.getByRole('button', { name: 'Join project' }).click();
  await u.page.waitForURL(projectUrl);
  return u;
}

test('three people: A starts an agent run, B steers, C watches, A accepts two files and rejects one, undo reverts', async () => {
  const errors: string[] = [];
  const a = await newUser(browser, server.url);
  a.page.on('pageerror', (e) => errors.push(`A: ${e.message}`));
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;
  const editorInvite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'editor' });
  const viewerInvite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'viewer' });
  const b = await join('Bea Bell', 'bea@example.com', editorInvite.url, projectUrl, errors);
  const c = await join('Cy Cole', 'cy@example.com', viewerInvite.url, projectUrl, errors);
  await b.page.setViewportSize({ width: 1440, height: 900 });
  await c.page.setViewportSize({ width: 800, height: 900 });

  for (const u of [a, b, c]) await u.page.getByTestId('toggle-agent').click();
  for (const u of [a, b, c]) await u.page.getByTestId('agent-panel').waitFor();
  assert.equal(await c.page.getByTestId('agent-task').count(), 0, 'viewers cannot start runs');

  await a.page.getByTestId('agent-task').fill('Make greet trim the name and add a test.');
  await a.page.getByTestId('agent-start').click();

  // B and C watch it stream: the agent's text and its tool calls.
  for (const u of [b, c]) {
    await u.page.getByTestId('agent-run').first().waitFor();
    await u.page.getByTestId('agent-tool-call').first().waitFor({ timeout: 30_000 });
  }
  await waitFor('the slow turn to stream to C', async () => /planning the change/.test((await c.page.getByTestId('agent-panel').textContent()) ?? ''));
  assert.equal(await c.page.getByTestId('agent-steer').count(), 0, 'C (viewer) has no steer box');
  assert.equal(await c.page.getByTestId('agent-stop').count(), 0, 'C (viewer) has no Stop');
  await b.page.getByTestId('agent-steer').fill('please trim the name first');
  await b.page.getByTestId('agent-steer').press('Enter');
  await waitFor('the steering message in C’s transcript', async () => /Bea Bell \(steering\)/.test((await c.page.getByTestId('agent-panel').textContent()) ?? ''));
  await Promise.all([screenshot(b.page, 'agent-01-streaming-B-1440'), screenshot(c.page, 'agent-02-streaming-C-800')]);
  // The next turn's calls show while the model is still generating their arguments.
  await c.page.getByTestId('agent-tool-input').first().waitFor({ timeout: 30_000 });
  assert.match(await c.page.getByTestId('agent-tool-input').first().textContent() ?? '', /\{"path"/);
  await screenshot(c.page, 'agent-02b-arguments-streaming-C-800');

  // The agent runs the tests in the sandbox; the result is shown on the changeset for everyone.
  for (const u of [a, b, c]) await u.page.getByTestId('agent-last-check').waitFor({ timeout: 60_000 });
  await waitFor('ready for review', async () => /ready for review/.test((await a.page.getByTestId('agent-run').first().textContent()) ?? ''), 60_000);
  assert.match((await c.page.getByTestId('agent-last-check').textContent()) ?? '', /node test\.js: exit 0/);
  assert.equal(await c.page.getByTestId('agent-accept-file').count(), 0, 'C (viewer) cannot decide');
  assert.equal(await a.page.getByTestId('agent-file').count(), 3);
  await a.page.getByTestId('agent-changeset').scrollIntoViewIfNeeded();
  await screenshot(a.page, 'agent-03-review-A-1440');

  // Every editor with greet.js open shows the agent's pending change over the code.
  await Promise.all([openFile(b.page, 'src/greet.js'), openFile(c.page, 'src/greet.js')]);
  for (const u of [b, c]) {
    await u.page.locator('[data-testid=inline-agent-change]').waitFor();
    await waitFor('the added line in the editor', async () => (await u.page.locator('.tdm-add-line').allTextContents()).join('\n').includes('name.trim()'));
    assert.equal(await editorValue(u.page), GREET, 'only drawn: the document is unchanged');
  }
  await Promise.all([screenshot(b.page, 'agent-03b-live-diff-B-1440'), screenshot(c.page, 'agent-03c-live-diff-C-800')]);

  // A accepts greet.js and test.js, rejects NOTES.md.
  const file = (page: Page, path: string) => page.locator(`[data-testid=agent-file][data-path="${path}"]`);
  await file(a.page, 'src/greet.js').getByTestId('agent-accept-file').click();
  await waitFor('greet accepted', async () => /accepted/.test((await file(a.page, 'src/greet.js').textContent()) ?? ''));
  await file(a.page, 'test.js').getByTestId('agent-accept-file').click();
  await waitFor('test accepted', async () => /accepted/.test((await file(a.page, 'test.js').textContent()) ?? ''));
  await file(a.page, 'NOTES.md').getByTestId('agent-reject-file').click();
  await waitFor('applied', async () => /applied/.test((await c.page.getByTestId('agent-run').first().textContent()) ?? ''));

  // Every editor shows the accepted change (B has the file open; C opens it).
  await Promise.all([openFile(b.page, 'src/greet.js'), openFile(c.page, 'src/greet.js')]);
  for (const u of [b, c]) await waitFor('the accepted greet.js', async () => (await editorValue(u.page)) === STEERED);
  for (const u of [b, c]) await waitFor('the drawn change gone once accepted', async () => (await u.page.locator('[data-testid=inline-agent-change]').count()) === 0);
  await waitFor('test.js in the tree', async () => (await b.page.getByTestId('tree-item').allTextContents()).join('|').includes('test.js'));
  assert.ok(!(await b.page.getByTestId('tree-item').allTextContents()).join('|').includes('NOTES.md'), 'the rejected file was never created');
  await Promise.all([screenshot(b.page, 'agent-04-applied-B-1440'), screenshot(c.page, 'agent-05-applied-C-800')]);

  // Undo reverts the whole accepted change for everyone.
  await a.page.getByTestId('agent-undo').click();
  for (const u of [b, c]) await waitFor('greet.js reverted', async () => (await editorValue(u.page)) === GREET);
  await waitFor('test.js gone', async () => !(await b.page.getByTestId('tree-item').allTextContents()).join('|').includes('test.js'));

  // The record on the AI activity page: the run, and (opened) who steered and what it ran.
  await c.page.goto(c.page.url().replace(/\/?$/, '/activity'));
  const entry = c.page.getByTestId('agent-activity-entry').first();
  await entry.waitFor();
  assert.match(await entry.textContent() ?? '', /Ada.*started an agent run/s);
  await entry.getByText('Full record').click();
  const record = entry.getByTestId('agent-activity-record');
  await record.waitFor();
  assert.match(await record.textContent() ?? '', /Bea Bell steered: “please trim the name first”/);
  assert.ok(await entry.getByTestId('agent-activity-turns').locator('tbody tr').count() >= 1, 'per-turn metrics are listed');
  await screenshot(c.page, 'agent-06-activity-C');
  assert.deepEqual(errors, []);
});

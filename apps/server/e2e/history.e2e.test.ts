import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { OpenAITestServer } from '@tandem/inference/testing';
import { editorValue, inviteAndJoin, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, trpc, waitFor, type RunningServer } from './harness.ts';

/**
 * Blame in two real browsers: Ada creates the project (the template is hers), Charles types a
 * line, an AI edit Ada asked for is accepted by Charles; the Blame toggle names each line's author
 * with the AI's model, requester and approver on hover, and "AI-written only" keeps just the AI's.
 */
declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

let upstream: OpenAITestServer;
let server: RunningServer;
let browser: Browser;

before(async () => {
  upstream = new OpenAITestServer({ tokensPerSecond: 2000, tokens: () => ['```js\nexport function greet(name) {\n  if (!name) throw new Error("name?");\n  return `Hello, ${name}!`;\n}\n```'] });
  server = await startServerProcess({ OPENAI_BASE_URL: await upstream.listen(), OPENAI_MODEL: 'qwen2.5-coder-7b', OPENAI_LABEL: 'Test model' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
  if (server) removeDir(server.dataDir);
});


test('Blame shows who wrote each line; AI lines name model, requester and approver; "AI-written only" filters', async () => {
  const a = await newUser(browser, server.url);
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;
  const b = await newUser(browser, server.url);
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Charles Babbage', 'charles@example.com');

  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('the file is loaded', async () => (await editorValue(a.page)).includes('greet'));
  const original = await editorValue(a.page);
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('// reviewed by Charles\n');

  await waitFor('Charles\'s line reached Ada', async () => (await editorValue(a.page)).includes('reviewed by Charles'));
  const fileId = await a.page.evaluate(() => window.__tandem?.activeFile() ?? null);
  assert.ok(fileId);
  const requested = await trpc<{ id: string }>(a.page, 'mutation', 'suggestions.request', { projectId, fileId, instruction: 'check the name', range: { kind: 'offsets', start: 0, end: original.length } });
  await waitFor('the AI edit is ready', async () => (await trpc<{ id: string; status: string }[]>(a.page, 'query', 'suggestions.list', { projectId })).some((s) => s.id === requested.id && s.status === 'ready'), 20_000);
  await trpc(b.page, 'mutation', 'suggestions.acceptHunk', { projectId, suggestionId: requested.id, hunk: 0 });

  await a.page.getByTestId('blame-toggle').click();
  await waitFor('blame notes in the editor', async () => (await a.page.locator('.blame-note').count()) >= 3, 15_000);
  // The notes are CSS ::after content of their decorations.
  const notes = (await a.page.locator('.blame-note').evaluateAll((els) => els.map((e) => getComputedStyle(e, '::after').content))).join('\n');
  assert.match(notes, /Ada Lovelace, just now/);
  assert.match(notes, /Charles Babbage, just now/);
  assert.match(notes, /AI · qwen2\.5-coder-7b/);

  await a.page.locator('.blame-note-ai').first().hover();
  const hover = a.page.locator('.monaco-hover-content', { hasText: 'accepted by' });
  await hover.waitFor();
  assert.match(await hover.innerText(), /Asked by Ada Lovelace · accepted by Charles Babbage/);
  await screenshot(a.page, 'history-01-blame-hover-1400');
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await screenshot(a.page, 'history-02-blame-1440');

  await a.page.getByTestId('blame-ai-only').click();
  await waitFor('only AI lines annotated', async () => (await a.page.locator('.blame-note').count()) === (await a.page.locator('.blame-note-ai').count()));
  assert.ok((await a.page.locator('.blame-note-ai').count()) >= 1);
  await a.page.setViewportSize({ width: 800, height: 900 });
  await screenshot(a.page, 'history-03-ai-only-800');

  await a.page.getByTestId('blame-toggle').click();
  await waitFor('blame hidden', async () => (await a.page.locator('.blame-note').count()) === 0);
});

test('Checkpoints: Ada restores the project while Charles edits; Charles sees it live and keeps typing', async () => {
  const a = await newUser(browser, server.url);
  await signUp(a.page, 'Ada Lovelace', 'ada2@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Restore');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const b = await newUser(browser, server.url);
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Charles Babbage', 'charles2@example.com');
  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('the file is loaded', async () => (await editorValue(b.page)).includes('greet'));
  const original = await editorValue(b.page);

  await a.page.getByTestId('open-checkpoints').click();
  const dialog = a.page.getByTestId('checkpoints-dialog');
  await dialog.getByLabel('Checkpoint name').fill('before the experiment');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.getByTestId('checkpoint').filter({ hasText: 'before the experiment' }).waitFor();

  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('// experiment\n');
  await waitFor('Ada has the experiment', async () => (await editorValue(a.page)).includes('// experiment'));
  await dialog.getByTestId('checkpoint').filter({ hasText: 'before the experiment' }).getByTestId('checkpoint-compare').click();
  await dialog.getByTestId('checkpoint-diff').getByText('+ // experiment').waitFor();
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await screenshot(a.page, 'history-04-checkpoints-1440');

  await dialog.getByTestId('checkpoint').filter({ hasText: 'before the experiment' }).getByRole('button', { name: 'Restore project' }).click();
  await dialog.getByText(/To undo, restore “Before restoring/).waitFor();
  await waitFor('Charles sees the restore live', async () => (await editorValue(b.page)) === original);
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('// after the restore\n');
  await waitFor('Ada has what Charles typed after the restore', async () => (await editorValue(a.page)) === `${original}// after the restore\n`);
  await a.page.setViewportSize({ width: 800, height: 900 });
  await screenshot(a.page, 'history-05-restored-800');
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newUser, removeDir, screenshot, signUp, startServerProcess, waitFor, type RunningServer } from './harness.ts';

let server: RunningServer;
let browser: Browser;
before(async () => {
  server = await startServerProcess();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  removeDir(server.dataDir);
});

async function createProject(page: Page, name: string): Promise<string> {
  await page.getByPlaceholder('New project name').fill(name);
  await page.getByLabel('Template').selectOption('node');
  await page.getByRole('button', { name: 'Create project' }).click();
  await page.waitForURL(/\/projects\/[\w-]+$/);
  await page.locator('[data-testid=tab][aria-selected=true]').waitFor();
  return page.url();
}

const activeTabPath = (page: Page) => page.locator('[data-testid=tab][aria-selected=true]').getAttribute('data-path');

test('quick open, command palette, panels that collapse and are remembered, tab title', async () => {
  const a = await newUser(browser, server.url);
  await signUp(a.page, 'Grace Hopper', 'grace@example.com');
  await a.page.waitForURL(/\/projects$/);
  const url = await createProject(a.page, 'Compiler');
  await waitFor('the tab title to name the file and project', async () => (await a.page.title()) === 'README.md — Compiler — Tandem');

  // Markdown renders beside its source and follows edits live.
  await a.page.getByTestId('markdown-preview').locator('h1', { hasText: 'Hello Tandem' }).waitFor();
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+End');
  await a.page.keyboard.type('\n## Added live\n');
  await a.page.getByTestId('markdown-preview').locator('h2', { hasText: 'Added live' }).waitFor();
  await screenshot(a.page, 'ide-00-markdown-preview');

  // Ctrl+P from inside the editor: fuzzy file names, Enter opens.
  await a.page.keyboard.press('Control+P');
  await a.page.getByTestId('palette-input').waitFor();
  await a.page.keyboard.type('srcidx');
  const rows = await a.page.getByTestId('palette-row').allTextContents();
  assert.equal(rows[0], 'src/index.js', rows.join('|'));
  await screenshot(a.page, 'ide-01-quick-open');
  await a.page.keyboard.press('Enter');
  await waitFor('src/index.js to open', async () => (await activeTabPath(a.page)) === 'src/index.js');
  assert.equal(await a.page.getByTestId('palette').count(), 0);
  assert.equal(await a.page.title(), 'index.js — Compiler — Tandem');

  // Recent files come first when the query is empty.
  await a.page.keyboard.press('Control+P');
  assert.deepEqual((await a.page.getByTestId('palette-row').allTextContents()).slice(0, 2), ['src/index.js', 'README.md']);
  await a.page.keyboard.press('Escape');

  // Ctrl+Shift+P lists Tandem's commands; a disabled one says why.
  await a.page.keyboard.press('Control+Shift+P');
  await a.page.keyboard.type('file tree');
  await screenshot(a.page, 'ide-02-command-palette');
  await a.page.getByTestId('palette-row').filter({ hasText: 'Hide File Tree' }).click();
  await waitFor('the file tree to collapse', async () => (await a.page.getByTestId('sidebar').count()) === 0);

  // The layout is remembered across a reload; the status bar toggle brings the tree back.
  await a.page.reload();
  await a.page.getByTestId('toggle-sidebar').waitFor();
  assert.equal(await a.page.getByTestId('sidebar').count(), 0);
  await a.page.getByTestId('toggle-sidebar').click();
  await a.page.getByTestId('sidebar').waitFor();

  // Share: the owner creates an invite link from the IDE; a double click still makes one link.
  await a.page.getByTestId('share-button').click();
  await a.page.getByLabel('Invite role').selectOption('viewer');
  await a.page.getByTestId('share-create').dblclick();
  const invite = await a.page.getByTestId('share-link').inputValue();
  assert.match(invite, /\/invite\/[\w-]+$/);
  await screenshot(a.page, 'ide-02b-share');
  await a.page.keyboard.press('Escape');
  const invites = await a.page.evaluate(async (projectId) => {
    const r = await fetch(`/api/trpc/invites.list?input=${encodeURIComponent(JSON.stringify({ projectId }))}`);
    return ((await r.json()) as { result: { data: { role: string }[] } }).result.data;
  }, url.split('/').pop());
  assert.deepEqual(invites.map((i) => i.role), ['viewer']);

  // Running from the palette starts the project's run for everyone.
  await a.page.keyboard.press('Control+Shift+P');
  await a.page.keyboard.type('run project');
  await a.page.keyboard.press('Enter');
  await a.page.getByText('Hello, Tandem!').first().waitFor({ timeout: 30_000 });

  // A stack trace in the run output links to the file and line.
  await a.page.evaluate(async (projectId) => {
    const command = "echo 'Error: boom'; echo '    at greet (/project/src/greet.js:2:10)'; exit 1";
    const r = await fetch('/api/trpc/sandbox.setRunCommand', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ projectId, command }) });
    if (!r.ok) throw new Error(await r.text());
  }, url.split('/').pop());
  await a.page.getByTestId('run-button').click();
  const link = a.page.getByTestId('file-link').filter({ hasText: '/project/src/greet.js:2:10' });
  await link.waitFor({ timeout: 30_000 });
  await screenshot(a.page, 'ide-02c-stack-trace-link');
  await link.click();
  await waitFor('greet.js to open at 2:10', async () => (await activeTabPath(a.page)) === 'src/greet.js'
    && /Ln 2, Col 10/.test(await a.page.getByTestId('status-bar').textContent() ?? ''));

  // 800 px: the AI panel starts collapsed, the editor keeps its room; the toggle opens it.
  await a.page.setViewportSize({ width: 800, height: 700 });
  await a.page.evaluate(() => localStorage.removeItem('tandem:layout'));
  await a.page.goto(url);
  await a.page.locator('[data-testid=tab][aria-selected=true]').waitFor();
  assert.equal(await a.page.getByTestId('review-panel').count(), 0);
  const editorWidth = await a.page.locator('.editor-area').evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(editorWidth >= 480, `editor is ${editorWidth}px wide at 800px`);
  await screenshot(a.page, 'ide-03-800px');
  await a.page.getByTestId('toggle-review').click();
  await a.page.getByTestId('review-panel').waitFor();
  await screenshot(a.page, 'ide-04-800px-review-open');

  // Settings: destructive actions ask in the page (no native confirm()); Cancel / Esc change nothing;
  // a double click on "Create invite link" makes one link.
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await a.page.goto(url + '/settings');
  await a.page.getByRole('button', { name: 'Leave' }).click();
  const dialog = a.page.locator('dialog.confirm-dialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent() ?? '', /Leave “Compiler”\?/);
  await screenshot(a.page, 'ide-05-confirm-leave');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  await a.page.getByRole('button', { name: 'Delete project' }).click();
  await dialog.waitFor();
  await a.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await a.page.getByTestId('member-row').count(), 1, 'still a member');
  await a.page.getByRole('button', { name: 'Create invite link' }).dblclick();
  await a.page.getByTestId('invite-link').waitFor();
  await waitFor('the invite list', async () => (await a.page.locator('td').filter({ hasText: /^editor$/ }).count()) >= 1);
  await new Promise((r) => setTimeout(r, 500)); // a second request would have landed by now
  await a.page.reload();
  await a.page.getByTestId('member-row').waitFor();
  assert.equal(await a.page.locator('td .badge.editor').count(), 1, 'one editor invite link from a double click');
  await a.context.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { editorValue, inviteAndJoin, newUser, openFile, screenshot, signUp, useServerAndBrowser, waitFor } from './harness.ts';

const e2e = useServerAndBrowser();

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
  const a = await newUser(e2e.browser, e2e.server.url);
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
  await waitFor('the invite list after a reload', async () => (await a.page.locator('td .badge.editor').count()) >= 1);
  assert.equal(await a.page.locator('td .badge.editor').count(), 1, 'one editor invite link from a double click');
  await a.context.close();
});

test('search across the project, replace all seen live by a second person, undo', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Edsger Dijkstra', 'edsger@example.com');
  const url = await createProject(a.page, 'Searchable');
  const b = await newUser(e2e.browser, e2e.server.url);
  await inviteAndJoin(a.page, url, 'editor', b.page, 'Barbara Liskov', 'barbara@example.com');
  await openFile(b.page, 'src/index.js');

  // Ctrl+Shift+F opens the search view with the query focused; results are grouped by file.
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Shift+F');
  await a.page.getByTestId('search-input').waitFor();
  await a.page.keyboard.type('greet');
  await a.page.getByTitle('Match whole word').click();
  await waitFor('grouped results', async () => (await a.page.getByTestId('search-file').count()) === 2);
  assert.deepEqual(await a.page.getByTestId('search-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path'))), ['src/greet.js', 'src/index.js']);
  await screenshot(a.page, 'ide-06-search');

  // A result opens its file at the match.
  await a.page.getByTestId('search-file').filter({ hasText: 'greet.js' }).getByTestId('search-match').first().click();
  await waitFor('greet.js to open', async () => (await activeTabPath(a.page)) === 'src/greet.js');

  // Replace all: B sees it in the open editor at once; Undo puts it back for both.
  await a.page.getByLabel('Toggle replace').click();
  await a.page.getByTestId('replace-input').fill('welcome');
  await a.page.getByTestId('replace-all').click();
  await a.page.getByTestId('replace-summary').waitFor();
  assert.match(await a.page.getByTestId('replace-summary').textContent() ?? '', /Replaced 4 in 2 files/);
  await waitFor('B to see the replace', async () => (await editorValue(b.page)).includes("console.log(welcome('Tandem'))"));
  await screenshot(b.page, 'ide-07-replace-seen-by-b');
  await a.page.setViewportSize({ width: 800, height: 700 });
  await screenshot(a.page, 'ide-08-search-800px');
  await a.page.getByTestId('replace-undo').click();
  await waitFor('B to see the undo', async () => (await editorValue(b.page)).includes("console.log(greet('Tandem'))"));
  await a.context.close();
  await b.context.close();
});

test('code intelligence across files: go to definition opens the other file, type errors from another file reach the Problems list', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Anders Hejlsberg', 'anders@example.com');
  const url = await createProject(a.page, 'Typed');
  const projectId = url.split('/').pop()!;
  await a.page.evaluate(async (projectId) => {
    const form = new FormData();
    form.append('files', new File(['export const answer: number = 42;\n'], 'util.ts'), 'src/util.ts');
    form.append('files', new File(["import { answer } from './util';\n\nexport const label: string = answer;\n"], 'main.ts'), 'src/main.ts');
    const r = await fetch(`/api/projects/${projectId}/upload`, { method: 'POST', body: form });
    if (!r.ok) throw new Error(await r.text());
  }, projectId);

  // JS: F12 on greet (imported from ./greet.js) opens greet.js at the definition.
  await openFile(a.page, 'src/index.js');
  await waitFor('index.js text', async () => (await editorValue(a.page)).includes("greet('Tandem')"));
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  for (let i = 0; i < 2; i++) await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Home');
  for (let i = 0; i < 14; i++) await a.page.keyboard.press('ArrowRight'); // on "greet" in console.log(greet(…))
  await waitFor('go to definition to open greet.js', async () => {
    await a.page.keyboard.press('F12');
    return (await activeTabPath(a.page)) === 'src/greet.js';
  }, 20_000);

  // Rename across files (F2) in index.js reaches greet.js even while nobody has greet.js open.
  await a.page.getByLabel('Close src/greet.js').click();
  await waitFor('index.js to be shown again', async () => (await activeTabPath(a.page)) === 'src/index.js');
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  for (let i = 0; i < 2; i++) await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Home');
  for (let i = 0; i < 14; i++) await a.page.keyboard.press('ArrowRight');
  await a.page.keyboard.press('F2');
  // The rename box opens once the language service says the symbol can be renamed, with its name selected.
  await waitFor('the rename box to take the keyboard', async () => a.page.evaluate(() => !!document.activeElement?.closest('.rename-box')), 15_000);
  await a.page.keyboard.type('welcome');
  await a.page.keyboard.press('Enter');
  await waitFor('the rename in index.js', async () => (await editorValue(a.page)).includes("import { welcome } from './greet.js'"));
  await waitFor('the rename to reach greet.js on the server', async () => {
    const found = await a.page.evaluate(async (projectId) => {
      const input = encodeURIComponent(JSON.stringify({ projectId, pattern: 'export function welcome' }));
      const r = await fetch(`/api/trpc/search.find?input=${input}`);
      return ((await r.json()) as { result: { data: { files: { path: string }[] } } }).result.data.files.map((f) => f.path);
    }, projectId);
    return found.includes('src/greet.js');
  }, 15_000);

  // Ctrl+G (Monaco's quick input, which loads when first opened): what is typed while it loads goes
  // into the picker, not into the file; Enter moves the cursor to that line.
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  const beforeGoTo = await editorValue(a.page);
  await a.page.keyboard.press('Control+g');
  await a.page.keyboard.type('3');
  await a.page.locator('.quick-input-widget').waitFor();
  await waitFor('the picker to read line 3', async () => (await a.page.locator('.quick-input-widget input').inputValue()) === ':3');
  await a.page.keyboard.press('Enter');
  await a.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await a.page.keyboard.type('/*3*/');
  await waitFor('the mark at the start of line 3', async () => (await editorValue(a.page)).split('\n')[2]?.startsWith('/*3*/') ?? false);
  assert.equal((await editorValue(a.page)).replace('/*3*/', ''), beforeGoTo);
  await waitFor('the mark to be undone', async () => {
    if ((await editorValue(a.page)) === beforeGoTo) return true;
    await a.page.keyboard.press('Control+z');
    return false;
  });

  // TS: the error in main.ts comes from util.ts's type; it is listed without opening main.ts.
  await waitFor('the cross-file type error in Problems', async () => /⊗ 1/.test(await a.page.getByTestId('problems-button').textContent() ?? ''), 30_000);
  await a.page.getByTestId('problems-button').click();
  const problem = a.page.getByTestId('problem').first();
  assert.match(await problem.textContent() ?? '', /Type 'number' is not assignable to type 'string'/);
  await screenshot(a.page, 'ide-09-problems');
  await problem.click();
  await waitFor('main.ts to open at the error', async () => (await activeTabPath(a.page)) === 'src/main.ts');
  await a.context.close();
});

test('comment threads between two people: anchored to the selected line, live, reply, resolve', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Margaret Hamilton', 'margaret@example.com');
  const url = await createProject(a.page, 'Reviewed');
  const b = await newUser(e2e.browser, e2e.server.url);
  await inviteAndJoin(a.page, url, 'viewer', b.page, 'Frances Allen', 'frances@example.com');
  await openFile(b.page, 'src/greet.js');

  // A selects line 2 of greet.js and adds a comment (Ctrl+Alt+M).
  await openFile(a.page, 'src/greet.js');
  await waitFor('greet.js text', async () => (await editorValue(a.page)).includes('return'));
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Control+Alt+M');
  const draft = a.page.getByTestId('comment-draft');
  await draft.waitFor();
  assert.match(await draft.textContent() ?? '', /src\/greet\.js:2[^]*return `Hello/);
  await draft.getByLabel('Comment').fill('Should greet say hi instead?');
  await draft.getByRole('button', { name: 'Comment' }).click();
  await a.page.getByTestId('comment-thread').waitFor();

  // B (a viewer) sees the marker on line 2 at once, opens the thread from it and replies.
  const glyph = b.page.locator('.comment-glyph');
  await glyph.waitFor({ timeout: 15_000 });
  await screenshot(b.page, 'ide-10-comment-marker');
  await glyph.click();
  const thread = b.page.getByTestId('comment-thread');
  await thread.waitFor();
  await thread.getByLabel('Reply').fill('Agreed, and keep the name.');
  await thread.getByRole('button', { name: 'Reply' }).click();

  // A sees the reply live, then resolves; the marker disappears for B.
  await waitFor('the reply at A', async () => (await a.page.getByTestId('comment').count()) === 2, 15_000);
  await screenshot(a.page, 'ide-11-comment-thread');
  await a.page.getByTestId('comment-resolve').click();
  await waitFor('the marker to go away at B', async () => (await b.page.locator('.comment-glyph').count()) === 0, 15_000);
  await a.page.setViewportSize({ width: 800, height: 700 });
  await a.page.getByRole('button', { name: /Show resolved/ }).click();
  await screenshot(a.page, 'ide-12-comments-800px');
  await a.context.close();
  await b.context.close();
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAITestServer } from '@tandem/inference/testing';
import { editorValue, newUser, openFile, screenshot, signUp, trpc, useServerAndBrowser, waitFor } from './harness.ts';

/**
 * The split editor's right group is a full editor, set up like the left one: with the same file
 * open in both groups, the other person's cursor, an AI suggestion's inline diff and a comment's
 * marker appear on the right too. The model is the OpenAI test double, in this process.
 */
const GREET = 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n';

// The model answers with a doc comment above the selected code: one added line, one hunk.
const upstream = new OpenAITestServer({
  ttftMs: 100,
  tokensPerSecond: 40,
  tokens: () => ['```js\n', '/** Greets. */\n', ...GREET.split(/(?<=\n)/), '```'],
});
after(() => upstream.close());
const e2e = useServerAndBrowser(async () => ({ OPENAI_BASE_URL: await upstream.listen(), OPENAI_MODEL: 'qwen2.5-coder-7b', OPENAI_LABEL: 'Test model' }));

test('the right editor group shows remote cursors, AI suggestions and comment markers like the left one', async () => {
  const pageErrors: string[] = [];
  const a = await newUser(e2e.browser, e2e.server.url);
  a.page.on('pageerror', (e) => pageErrors.push(e.message));
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.getByPlaceholder('New project name').fill('Halves');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const invite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId: projectUrl.split('/').pop()!, role: 'editor' });
  const b = await newUser(e2e.browser, e2e.server.url);
  await signUp(b.page, 'Charles Babbage', 'charles@example.com', new URL(invite.url).pathname);
  await b.page.getByRole('button', { name: 'Join project' }).click();
  await b.page.waitForURL(projectUrl);
  await a.page.setViewportSize({ width: 1440, height: 900 });

  // A has greet.js in both groups.
  await openFile(a.page, 'src/greet.js');
  await a.page.getByTestId('split-right').click();
  const right = a.page.getByTestId('split-group');
  const rightEditor = right.getByTestId('split-editor');
  await waitFor('greet.js on the right', async () => ((await rightEditor.locator('.view-lines').textContent()) ?? '').includes('greet(name)'));

  // B's cursor and selection show in both of A's groups.
  await openFile(b.page, 'src/greet.js');
  await waitFor('B has the file', async () => (await editorValue(b.page)) === GREET);
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+Home');
  await b.page.keyboard.press('Shift+End');
  for (const editor of [a.page.getByTestId('code-editor'), rightEditor]) {
    await editor.locator('.remote-cursor-label', { hasText: 'Charles Babbage' }).waitFor();
    await editor.locator('.yRemoteSelection').waitFor();
  }

  // B asks for an AI edit of the whole file: its inline diff streams into both of A's groups.
  await b.page.keyboard.press('Control+a');
  await b.page.keyboard.press('Control+k');
  await b.page.getByLabel('Instruction').fill('add a doc comment');
  await b.page.getByRole('button', { name: 'Ask AI' }).click();
  for (const editor of [a.page.getByTestId('code-editor'), rightEditor]) {
    await editor.locator('[data-testid=inline-suggestion]').waitFor({ timeout: 15_000 });
  }
  await waitFor('added lines on the right', async () => (await rightEditor.locator('.tdm-add-line').count()) >= 1, 15_000);
  await rightEditor.locator('[data-testid=inline-suggestion][data-status=ready]').waitFor({ timeout: 15_000 });
  // Each group draws its own copy, not the other's twice.
  assert.equal(await rightEditor.locator('[data-testid=inline-suggestion]').count(), 1);
  assert.equal(await a.page.getByTestId('code-editor').locator('[data-testid=inline-suggestion]').count(), 1);

  // A comment on line 2, written from the right group, is marked in both groups.
  await rightEditor.locator('.view-lines').click();
  await a.page.keyboard.press('Control+Home');
  await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Control+Alt+M');
  const draft = a.page.getByTestId('comment-draft');
  await draft.getByLabel('Comment').fill('Say hi instead?');
  await draft.getByRole('button', { name: 'Comment' }).click();
  for (const editor of [a.page.getByTestId('code-editor'), rightEditor]) await editor.locator('.comment-glyph').waitFor({ timeout: 15_000 });

  // Typing on the right is one document: B sees it, and Ctrl+Z there undoes it.
  await rightEditor.locator('.view-lines').click();
  await a.page.keyboard.press('Control+Home');
  await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('End');
  await a.page.keyboard.type(' // right');
  await waitFor('B sees the edit made on the right', async () => (await editorValue(b.page)).includes('// right'));
  await a.page.keyboard.press('Control+z');
  await waitFor('undone for B too', async () => (await editorValue(b.page)) === GREET);

  // Go to definition from the right group opens the definition there; the left group keeps its file.
  await a.page.getByTestId('sidebar-files').click(); // (the comment showed the Comments view)
  await openFile(a.page, 'src/index.js');
  await a.page.getByTestId('split-right').click();
  await waitFor('index.js on the right', async () => ((await rightEditor.locator('.view-lines').textContent()) ?? '').includes('console.log'));
  const activeIn = (group: string) => a.page.locator(`${group} [data-testid=tab][aria-selected=true]`).getAttribute('data-path');
  await rightEditor.locator('.view-lines').click();
  await a.page.keyboard.press('Control+Home');
  for (let i = 0; i < 2; i++) await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Home');
  for (let i = 0; i < 14; i++) await a.page.keyboard.press('ArrowRight'); // on "greet" in console.log(greet(…))
  await waitFor('go to definition to open greet.js on the right', async () => {
    await a.page.keyboard.press('F12');
    return (await activeIn('[data-testid=split-group]')) === 'src/greet.js';
  }, 20_000);
  assert.equal(await activeIn('.editor-group:not(.split)'), 'src/index.js', 'the left group still shows index.js');

  await screenshot(a.page, 'split-03-full-editor-1440');
  await a.page.setViewportSize({ width: 800, height: 700 });
  await screenshot(a.page, 'split-04-full-editor-800');
  // The right editor is created after the language services started: no missing-service errors.
  assert.deepEqual(pageErrors, []);
  await a.context.close();
  await b.context.close();
});

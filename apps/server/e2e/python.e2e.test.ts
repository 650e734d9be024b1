// A Python diagnostic from the language server (pyright in the project's sandbox), seen by two
// people in two browsers; hover and go to definition across files from the same server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editorValue, inviteAndJoin, newUser, openFile, screenshot, signUp, useServerAndBrowser, waitFor } from './harness.ts';

const e2e = useServerAndBrowser();

test('a Python diagnostic from the language server reaches both people; hover and go to definition across files', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  const b = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Guido', 'guido@example.com');
  await a.page.getByPlaceholder('New project name').fill('Snakes');
  await a.page.getByLabel('Template').selectOption('python');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const url = a.page.url();
  const projectId = url.split('/').pop()!;
  await a.page.evaluate(async (projectId) => {
    const form = new FormData();
    form.append('files', new File(['def double(n: int) -> int:\n    return n * 2\n'], 'util.py'), 'util.py');
    const r = await fetch(`/api/projects/${projectId}/upload`, { method: 'POST', body: form });
    if (!r.ok) throw new Error(await r.text());
  }, projectId);
  await inviteAndJoin(a.page, url, 'editor', b.page, 'Barry', 'barry@example.com');
  for (const page of [a.page, b.page]) await page.setViewportSize({ width: 1440, height: 900 });

  await openFile(a.page, 'main.py');
  await openFile(b.page, 'main.py');
  await waitFor('main.py text', async () => (await editorValue(a.page)).includes('def greet'));
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  // Escape before each Enter: the language server's completion list must not take the newline.
  for (const line of ['from util import double', 'count: int = "three"', 'double(count)']) {
    await a.page.keyboard.type(line);
    await a.page.keyboard.press('Escape');
    await a.page.keyboard.press('Enter');
  }

  // Both people see pyright's error: a squiggle in the editor and the message in Problems.
  for (const page of [a.page, b.page]) {
    await waitFor('the pyright error in the Problems count', async () => /⊗ [1-9]/.test(await page.getByTestId('problems-button').textContent() ?? ''), 120_000);
    await page.locator('.monaco-editor .squiggly-error').first().waitFor();
    await page.getByTestId('problems-button').click();
    await waitFor('the type error in Problems', async () => /"Literal\['three'\]" is not assignable to declared type "int"/.test((await page.getByTestId('problem').allTextContents()).join('\n')), 60_000);
    // One problem: `from util import double` resolved against the uploaded file.
    assert.equal(await page.getByTestId('problem').count(), 1, (await page.getByTestId('problem').allTextContents()).join('\n'));
  }
  await screenshot(b.page, 'python-01-diagnostic-1440');
  await b.page.setViewportSize({ width: 800, height: 700 });
  await screenshot(b.page, 'python-02-diagnostic-800');

  // Hover on `greet` in b's editor (Show Hover from the editor's commands): the signature from pyright.
  await b.page.setViewportSize({ width: 1440, height: 900 });
  await b.page.keyboard.press('Escape');
  const greetLine = (await editorValue(b.page)).split('\n').findIndex((l) => l.startsWith('def greet'));
  await waitFor('the hover with greet\'s signature', async () => {
    await b.page.locator('.monaco-editor .view-lines').click();
    await b.page.keyboard.press('Control+Home');
    for (let i = 0; i < greetLine; i++) await b.page.keyboard.press('ArrowDown');
    await b.page.keyboard.press('Home');
    for (let i = 0; i < 5; i++) await b.page.keyboard.press('ArrowRight');
    await b.page.keyboard.press('F1');
    await b.page.keyboard.type('Show or Focus Hover');
    await b.page.keyboard.press('Enter');
    return b.page.locator('.monaco-hover-content', { hasText: 'greet(name: str) -> str' }).first().waitFor({ timeout: 5000 }).then(() => true, () => false);
  }, 60_000);
  await screenshot(b.page, 'python-03-hover-1440');

  // F12 on `double` opens util.py.
  await a.page.keyboard.press('Escape');
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('ArrowDown');
  await a.page.keyboard.press('Home');
  await a.page.keyboard.press('ArrowRight');
  await waitFor('go to definition to open util.py', async () => {
    await a.page.keyboard.press('F12');
    return (await a.page.locator('[data-testid=tab][aria-selected=true]').getAttribute('data-path')) === 'util.py';
  }, 30_000);
  await a.context.close();
  await b.context.close();
});

test('split editor: two files side by side, each group with its own tabs; typing on the right is live for others; remembered after a reload', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  const b = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Ada', 'ada@example.com');
  await a.page.getByPlaceholder('New project name').fill('Halves');
  await a.page.getByLabel('Template').selectOption('python');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const url = a.page.url();
  await inviteAndJoin(a.page, url, 'editor', b.page, 'Bob', 'bob@example.com');
  await a.page.setViewportSize({ width: 1440, height: 900 });

  await openFile(a.page, 'main.py');
  await a.page.getByTestId('split-right').click();
  const group = a.page.getByTestId('split-group');
  await group.locator('[data-testid=tab][data-path="main.py"][aria-selected=true]').waitFor();
  await openFile(a.page, 'README.md');
  const splitLines = group.locator('[data-testid=split-editor] .view-lines');
  await waitFor('main.py on the right, README.md on the left', async () => (await splitLines.textContent() ?? '').includes('def\u00a0greet') && (await editorValue(a.page)).startsWith('# Hello'));

  await splitLines.click();
  await a.page.keyboard.press('Control+End');
  await a.page.keyboard.type('# typed on the right');
  await openFile(b.page, 'main.py');
  await waitFor('the edit made in the split to reach the other person', async () => (await editorValue(b.page)).includes('# typed on the right'));
  await screenshot(a.page, 'split-01-1440');
  await a.page.setViewportSize({ width: 800, height: 700 });
  await screenshot(a.page, 'split-02-800');

  await a.page.reload();
  await a.page.getByTestId('split-group').locator('[data-testid=tab][data-path="main.py"][aria-selected=true]').waitFor();
  await a.page.getByTestId('close-split').click();
  assert.equal(await a.page.getByTestId('split-group').count(), 0);
  await a.context.close();
  await b.context.close();
});

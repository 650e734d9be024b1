import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { OpenAITestServer, type RecordedRequest } from '@tandem/inference/testing';
import { editorValue, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, trpc, waitFor as waitForDefault, type RunningServer } from './harness.ts';

/**
 * Shared AI edits in two real browsers: A asks for an edit, both watch it stream in as an inline
 * diff in their editors, B reviews it from the keyboard (rejects one hunk, accepts the other),
 * both editors show the result, and the AI activity page records who decided what.
 * The model is the OpenAI test double, in this process: it rewrites the selected code.
 */
declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

const GREET = 'export function greet(name) {\n  return `Hello, ${name}!`;\n}\n';
const DOC_COMMENT = '/** Greets someone by name. */\n';
const RETURN = '  return `Hello, ${name}!`;\n';
const CHECKED_RETURN = "  if (!name) throw new Error('name is required');\n  return `Hello, ${name.trim()}!`;\n";
/** Two separate changes, so two hunks: a doc comment above the function (added), the return line rewritten (removed + added). */
const rewrite = (code: string) => DOC_COMMENT + code.replace(RETURN, CHECKED_RETURN);

let upstream: OpenAITestServer;
let server: RunningServer;
let browser: Browser;

function selectedOf(request: RecordedRequest): string {
  const messages = request.body?.messages as { content: string }[];
  return /<selected>\n([\s\S]*)<\/selected>/.exec(messages.at(-1)!.content)?.[1] ?? '';
}

before(async () => {
  // Slow enough to watch it stream (about 2 s), fenced as chat models often answer.
  upstream = new OpenAITestServer({
    ttftMs: 250,
    tokensPerSecond: 30,
    tokens: (request) => {
      const text = '```js\n' + rewrite(selectedOf(request)) + '```';
      const tokens: string[] = [];
      for (let i = 0; i < text.length; i += 3) tokens.push(text.slice(i, i + 3));
      return tokens;
    },
  });
  const baseUrl = await upstream.listen();
  server = await startServerProcess({ OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'qwen2.5-coder-7b', OPENAI_LABEL: 'Test model' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await upstream?.close();
  if (server) removeDir(server.dataDir);
});

const value = editorValue;
const waitFor = (what: string, check: () => Promise<boolean>, timeoutMs = 15_000) => waitForDefault(what, check, timeoutMs);




const inlineHeader = (page: Page, status?: string) =>
  page.locator(`[data-testid=inline-suggestion]${status ? `[data-status=${status}]` : ''}`);

test('two people review an AI edit together: it streams into both editors, B decides per hunk, the record says who did what', async () => {
  const pageErrors: string[] = [];
  const a = await newUser(browser, server.url);
  a.page.on('pageerror', (e) => pageErrors.push(`A: ${e.message}`));
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;
  const invite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'editor' });

  const b = await newUser(browser, server.url);
  b.page.on('pageerror', (e) => pageErrors.push(`B: ${e.message}`));
  await signUp(b.page, 'Charles Babbage', 'charles@example.com', new URL(invite.url).pathname);
  await b.page.getByRole('button', { name: 'Join project' }).click();
  await b.page.waitForURL(projectUrl);

  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('both have the file', async () => (await value(a.page)) === GREET && (await value(b.page)) === GREET);

  // A selects the whole function and asks with Ctrl+K.
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+a');
  await a.page.keyboard.press('Control+k');
  const prompt = a.page.getByTestId('ai-edit-prompt');
  await prompt.waitFor();
  assert.match((await prompt.textContent()) ?? '', /lines 1–3.*src\/greet\.js/);
  await a.page.getByLabel('Instruction').fill('add error handling and a doc comment');
  await screenshot(a.page, 'review-01-prompt');
  await a.page.getByRole('button', { name: 'Ask AI' }).click();

  // Both see it stream in: the header names requester and model, green lines appear in both editors.
  for (const page of [a.page, b.page]) await inlineHeader(page, 'streaming').waitFor();
  await waitFor('added lines stream into B’s editor', async () => (await b.page.locator('.tdm-add-line').count()) >= 1);
  const header = (await inlineHeader(b.page).textContent()) ?? '';
  assert.match(header, /Ada Lovelace.*asked.*qwen2\.5-coder-7b.*add error handling/s);
  await waitFor('live metrics', async () => /TTFT \d+ ms/.test((await inlineHeader(b.page).textContent()) ?? ''));
  await Promise.all([screenshot(a.page, 'review-02-streaming-A'), screenshot(b.page, 'review-03-streaming-B')]);
  assert.equal(await value(b.page), GREET, 'streaming never changes the file');

  // Ready: the inline diff shows both hunks in both editors, the panel lists them.
  for (const page of [a.page, b.page]) {
    await inlineHeader(page, 'ready').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid=suggestion-card][data-status=ready] [data-testid=hunk]').nth(1).waitFor();
  }
  await waitFor('inline diff complete in B', async () => (await b.page.locator('.tdm-add-line').count()) === 3 && (await b.page.locator('.tdm-del-line').count()) === 1);
  assert.match(await b.page.locator('.tdm-insertion').first().textContent() ?? '', /Greets someone by name/);
  assert.match((await b.page.locator('.tdm-del-text').allTextContents()).join('').replace(/\u00a0/g, ' '), /return `Hello, \$\{name\}!`;/);
  await Promise.all([screenshot(a.page, 'review-04-ready-A'), screenshot(b.page, 'review-05-ready-B')]);

  // The diff belongs to its file: switching tabs away and back neither leaks nor loses it.
  await openFile(b.page, 'README.md');
  await waitFor('no diff over another file', async () => (await inlineHeader(b.page).count()) === 0 && (await b.page.locator('.tdm-del-line, .tdm-add-line').count()) === 0);
  await openFile(b.page, 'src/greet.js');
  await inlineHeader(b.page, 'ready').waitFor();
  await waitFor('diff back', async () => (await b.page.locator('.tdm-add-line').count()) === 3);

  // B reviews from the keyboard: the first hunk is selected from the start (↓/↑ move), R rejects
  // it and selects the next pending one, A accepts that.
  await b.page.getByTestId('review-panel').focus();
  await b.page.locator('[data-testid=hunk][data-hunk="0"].selected').waitFor();
  await b.page.keyboard.press('ArrowDown');
  await b.page.locator('[data-testid=hunk][data-hunk="1"].selected').waitFor();
  await b.page.keyboard.press('ArrowUp');
  await b.page.locator('[data-testid=hunk][data-hunk="0"].selected').waitFor();
  await b.page.keyboard.press('r');
  await b.page.locator('[data-testid=hunk][data-hunk="0"][data-decision=rejected]').waitFor();
  // A sees B's decision live.
  await a.page.locator('[data-testid=hunk][data-hunk="0"][data-decision=rejected]').waitFor();
  await b.page.locator('[data-testid=hunk][data-hunk="1"].selected').waitFor();
  await b.page.keyboard.press('a');

  const expected = GREET.replace(RETURN, CHECKED_RETURN);
  await waitFor('both editors show the accepted hunk only', async () => (await value(a.page)) === expected && (await value(b.page)) === expected);
  for (const page of [a.page, b.page]) {
    await page.locator('[data-testid=closed-suggestion][data-status=partially_accepted]').waitFor();
    await waitFor('inline diff gone', async () => (await inlineHeader(page).count()) === 0);
  }
  await Promise.all([screenshot(a.page, 'review-06-result-A'), screenshot(b.page, 'review-07-result-B')]);

  // The record: who asked, which model, metrics, and each hunk's decision with who made it.
  await a.page.goto(`${projectUrl}/activity`);
  const entry = a.page.getByTestId('activity-entry').first();
  await entry.waitFor();
  const text = (await entry.textContent()) ?? '';
  assert.match(text, /Ada Lovelace.*asked.*qwen2\.5-coder-7b.*partially accepted/s);
  assert.match(text, /add error handling and a doc comment/);
  assert.equal(await entry.getByTestId('activity-provider').textContent(), 'via Test model', 'the provider as the deployment named it');
  assert.match((await entry.getByTestId('activity-metrics').textContent()) ?? '', /TTFT \d+ ms · \d[\d,]* tok\/s · \d+ tokens/);
  const hunks = entry.getByTestId('activity-hunk');
  assert.deepEqual(await hunks.evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-decision'), r.querySelector('[data-testid=activity-decider]')?.textContent])), [
    ['rejected', 'Charles Babbage'],
    ['accepted', 'Charles Babbage'],
  ]);
  await entry.locator('details summary').click();
  await screenshot(a.page, 'review-08-activity');

  // The owner sets the approval policy in the project settings (the server enforces it).
  await a.page.goto(`${projectUrl}/settings`);
  const policy = a.page.getByTestId('approval-policy');
  await policy.getByRole('radio', { name: /Several approvals/ }).check();
  await policy.getByLabel('Approvals required').fill('2');
  await policy.getByRole('button', { name: 'Save policy' }).click();
  await policy.getByText('Saved.').waitFor();
  await policy.scrollIntoViewIfNeeded();
  await screenshot(a.page, 'review-09-policy-settings');
  const saved = await a.page.evaluate(async (id) => (await (await fetch(`/api/trpc/suggestions.policy?input=${encodeURIComponent(JSON.stringify({ projectId: id }))}`)).json()).result.data, projectId);
  assert.deepEqual(saved, { policy: { kind: 'n_approvals', n: 2 }, canChange: true });
  assert.deepEqual(pageErrors, []);
});

test('an edit inside one hunk stales only that hunk, for both people; a comment on the other hunk reaches B live; the intact hunk applies', async () => {
  const pageErrors: string[] = [];
  const a = await newUser(browser, server.url);
  a.page.on('pageerror', (e) => pageErrors.push(`A: ${e.message}`));
  await signUp(a.page, 'Grace Hopper', 'grace@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Compiler');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const invite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId: projectUrl.split('/').pop()!, role: 'editor' });
  const b = await newUser(browser, server.url);
  b.page.on('pageerror', (e) => pageErrors.push(`B: ${e.message}`));
  await signUp(b.page, 'Alan Turing', 'alan@example.com', new URL(invite.url).pathname);
  await b.page.getByRole('button', { name: 'Join project' }).click();
  await b.page.waitForURL(projectUrl);
  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('both have the file', async () => (await value(a.page)) === GREET && (await value(b.page)) === GREET);

  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+a');
  await a.page.keyboard.press('Control+k');
  await a.page.getByLabel('Instruction').fill('add error handling and a doc comment');
  await a.page.getByRole('button', { name: 'Ask AI' }).click();
  for (const page of [a.page, b.page]) await page.locator('[data-testid=suggestion-card][data-status=ready] [data-testid=hunk]').nth(1).waitFor({ timeout: 20_000 });

  // B finishes the return line themselves: inside hunk 2's lines.
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+Home');
  await b.page.keyboard.press('ArrowDown');
  await b.page.keyboard.press('End');
  await b.page.keyboard.type(' // B');
  const edited = GREET.replace('!`;\n', '!`; // B\n');
  await waitFor('A has B\'s edit', async () => (await value(a.page)) === edited);
  for (const page of [a.page, b.page]) {
    await page.locator('[data-testid=hunk][data-hunk="1"][data-stale=true]').waitFor();
    assert.equal(await page.locator('[data-testid=hunk][data-hunk="0"]').getAttribute('data-stale'), 'false', 'the other hunk is untouched');
    await waitFor('only the edited hunk is drawn stale', async () => (await page.locator('.tdm-stale-line').count()) === 1 && (await page.locator('.tdm-add-line').count()) === 1);
  }
  assert.equal(await b.page.locator('[data-testid=hunk][data-hunk="1"]').getByRole('button', { name: 'Accept' }).count(), 0, 'a stale hunk cannot be accepted');

  // A comments on the intact hunk; B sees the thread under it and replies; A sees the reply.
  await a.page.locator('[data-testid=hunk][data-hunk="0"] [data-testid=hunk-comment]').click();
  await a.page.getByLabel('Comment on this change').fill('Is a doc comment enough, or do we want JSDoc types?');
  await a.page.getByTestId('hunk-comment-draft').getByRole('button', { name: 'Comment' }).click();
  const bThread = b.page.locator('[data-testid=hunk][data-hunk="0"] [data-testid=comment-thread]');
  await bThread.waitFor();
  assert.match((await bThread.textContent()) ?? '', /Grace Hopper.*JSDoc types/s);
  await bThread.getByLabel('Reply').fill('Types later; this is fine.');
  await bThread.getByRole('button', { name: 'Reply' }).click();
  await a.page.locator('[data-testid=hunk][data-hunk="0"] [data-testid=comment]').nth(1).waitFor();
  for (const [page, who] of [[a.page, 'A'], [b.page, 'B']] as const) {
    await page.setViewportSize({ width: 1440, height: 900 });
    await screenshot(page, `review-10-stale-hunk-comment-${who}-1440`);
  }
  // At 800 px the panels collapse into toggles: B opens the review panel to see the same.
  await b.page.setViewportSize({ width: 800, height: 900 });
  // The panel collapses once the page has handled the resize: checked before that, it still looked open.
  await b.page.getByTestId('review-panel').waitFor({ state: 'hidden' });
  await b.page.getByTestId('toggle-review').click();
  await b.page.locator('[data-testid=hunk][data-hunk="0"] [data-testid=comment-thread]').waitFor();
  await screenshot(b.page, 'review-11-stale-hunk-comment-B-800');
  await b.page.setViewportSize({ width: 1440, height: 900 });
  await b.page.getByTestId('review-panel').waitFor();

  // B accepts the intact hunk: it lands above the function; the stale one waits (regenerate or discard).
  await b.page.locator('[data-testid=hunk][data-hunk="0"]').getByRole('button', { name: 'Accept' }).click();
  await waitFor('both editors show the accepted hunk and B\'s own edit', async () => (await value(a.page)) === DOC_COMMENT + edited && (await value(b.page)) === DOC_COMMENT + edited);
  await a.page.locator('[data-testid=suggestion-card][data-status=stale]').getByRole('button', { name: 'Regenerate on current code' }).waitFor();
  assert.deepEqual(pageErrors, []);
});

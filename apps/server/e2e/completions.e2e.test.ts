import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { OpenAITestServer } from '@tandem/inference/testing';
import { editorValue, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, trpc, waitFor, type RunningServer } from './harness.ts';

/**
 * Inline completions in Chromium: the real server (built web app) with the OpenAI test double as
 * its provider. Ghost text streams in at the cursor, Tab inserts it, the inserted text reaches a
 * second browser in the same project, and a provider fault shows an error state.
 */
declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

let upstream: OpenAITestServer;
let server: RunningServer;
/** A second server with no AI provider configured. */
let bare: RunningServer;
let browser: Browser;
before(async () => {
  upstream = new OpenAITestServer({ tokensPerSecond: 100 });
  const baseUrl = await upstream.listen();
  [server, bare, browser] = await Promise.all([
    startServerProcess({ OPENAI_BASE_URL: baseUrl, OPENAI_MODEL: 'e2e-coder', OPENAI_LABEL: 'Test coder', OPENAI_FIM: 'true' }),
    startServerProcess(),
    launchBrowser(),
  ]);
});
after(async () => {
  await browser?.close();
  for (const s of [server, bare]) {
    await s?.stop();
    if (s) removeDir(s.dataDir);
  }
  await upstream?.close();
});

const value = editorValue;



/**
 * Monaco's ghost text: the first line is injected into the cursor's line (one span per syntax
 * token), further lines are in a view zone. Spaces normalised (Monaco renders U+00A0).
 */
async function ghostText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const inline = [...document.querySelectorAll('.monaco-editor .view-lines .ghost-text-decoration')].map((e) => e.textContent).join('');
    const more = [...document.querySelectorAll('.monaco-editor .suggest-preview-text .view-line')].map((e) => e.textContent ?? '');
    return (more.length > 0 ? [inline, ...more].join('\n') : inline).replace(/\u00a0/g, ' ');
  });
}


test('ghost text streams in, Tab inserts it, a second browser sees it; a fault shows an error', async (t) => {
  const a = await newUser(browser, server.url);
  const b = await newUser(browser, server.url);
  t.after(async () => {
    // On failure, what each browser showed.
    await screenshot(a.page, 'completions-last-a').catch(() => {});
    await screenshot(b.page, 'completions-last-b').catch(() => {});
    await a.context.close();
    await b.context.close();
  });
  // Aborted completions must not surface as uncaught errors (Monaco's "Canceled").
  const uncaught: string[] = [];
  a.page.on('pageerror', (e) => uncaught.push(e.message));
  a.page.on('console', (m) => m.type() === 'error' && uncaught.push(m.text()));
  await signUp(a.page, 'Ada', 'ada-ai@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Completions');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;

  const invite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'editor' });
  await signUp(b.page, 'Charles', 'charles-ai@example.com', new URL(invite.url).pathname);
  await b.page.getByRole('button', { name: 'Join project' }).click();
  await b.page.waitForURL(projectUrl);

  // README.md shown first (and loaded) so that it is an open file the prompt compares snippets from.
  await openFile(a.page, 'README.md');
  await waitFor('README.md in the editor', async () => (await value(a.page)).startsWith('# Hello Tandem'));
  await openFile(a.page, 'src/index.js');
  await openFile(b.page, 'src/index.js');
  const status = a.page.getByTestId('ai-status');
  await waitFor('the AI status to be ready', async () => (await status.getAttribute('data-state')) === 'idle');
  assert.match(await status.textContent() ?? '', /Test coder/);

  // Type at the end of the file: ghost text from the test double streams in at the cursor.
  // 5 tok/s: slow enough to see the ghost text grow, even on a busy machine.
  upstream.configure({ tokens: ['sum', '(1, 2', ');', '\n', 'console', '.log(total', ');'], tokensPerSecond: 5 });
  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+End');
  await a.page.keyboard.press('Enter');
  await a.page.keyboard.type('const total = ');
  // (Pauses while typing may start requests for a partial line; each next keystroke aborts them.)
  const forLine = () => upstream.requests.find((r) => String(r.body?.prompt).endsWith('const total = '));
  await waitFor('the request for the typed line', async () => forLine() !== undefined);
  const request = forLine()!;
  assert.equal(request.path, '/v1/completions');
  assert.match(String(request.body?.prompt), /^\/\/ Path: src\/index\.js\n\/\/ Compare this snippet from README\.md:\n[^]*const total = $/);
  assert.equal(request.body?.suffix, '');
  await waitFor('the first ghost characters', async () => (await ghostText(a.page)).startsWith('sum'));
  const early = await ghostText(a.page);
  assert.equal(request.outcome, 'pending', `ghost text "${early}" was shown while the model was still generating`);
  await screenshot(a.page, 'completions-01-ghost-streaming');
  await waitFor('the whole multi-line ghost text', async () => (await ghostText(a.page)) === 'sum(1, 2);\nconsole.log(total);');
  await waitFor('final metrics', async () => (await status.getAttribute('data-state')) === 'done');
  assert.match(await status.textContent() ?? '', /Test coder: TTFT \d+ ms · 7 tok · [\d,]+ tok\/s/);
  await screenshot(a.page, 'completions-02-ghost-complete');

  // Typing the beginning of the ghost text reuses it: the rest stays, no new request.
  const requestsBefore = upstream.requests.length;
  await a.page.keyboard.type('s');
  await waitFor('the rest of the ghost text', async () => (await ghostText(a.page)) === 'um(1, 2);\nconsole.log(total);');
  await new Promise((r) => setTimeout(r, 300)); // longer than the debounce
  assert.equal(upstream.requests.length, requestsBefore, 'no new request while the typed text matches');

  // Tab inserts it; the text reaches the other browser through the shared document.
  await a.page.keyboard.press('Tab');
  await waitFor('the completion in the editor', async () => (await value(a.page)).includes('const total = sum(1, 2);\nconsole.log(total);'));
  await waitFor('the completion in the second browser', async () => (await value(b.page)).includes('const total = sum(1, 2);\nconsole.log(total);'));
  await screenshot(b.page, 'completions-03-second-browser');

  // Esc dismisses a completion that is still streaming, and its upstream request is closed.
  upstream.configure({ tokens: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], tokensPerSecond: 5 });
  await a.page.keyboard.press('Enter');
  await a.page.keyboard.type('let esc = ');
  await waitFor('streaming ghost text', async () => (await ghostText(a.page)).startsWith('a'));
  const streaming = upstream.requests.at(-1)!;
  await a.page.keyboard.press('Escape');
  assert.equal((await upstream.waitForClose(streaming.id, 3000)).outcome, 'closed_early');
  await new Promise((r) => setTimeout(r, 400)); // more tokens would have arrived by now
  assert.equal(await ghostText(a.page), '', 'dismissed ghost text does not come back');

  // A keystroke aborts the in-flight request (here: still waiting for its first token).
  upstream.configure({ ttftMs: 10_000 });
  await a.page.keyboard.press('Enter');
  await a.page.keyboard.type('let slow');
  await waitFor('the slow request', async () => String(upstream.requests.at(-1)?.body?.prompt).endsWith('let slow'));
  const slow = upstream.requests.at(-1)!;
  await a.page.keyboard.type('er');
  assert.equal((await upstream.waitForClose(slow.id, 3000)).outcome, 'closed_early');
  upstream.configure({ ttftMs: 0, tokensPerSecond: 100 });

  // A provider fault: a clear error state, no ghost text, and the upstream request is closed.
  upstream.configure({ fault: { kind: 'server_error' } });
  await a.page.keyboard.press('Enter');
  await a.page.keyboard.type('const next = ');
  await waitFor('the error state', async () => (await status.getAttribute('data-state')) === 'error');
  assert.match(await status.textContent() ?? '', /AI error: .*Test coder/);
  assert.equal(await ghostText(a.page), '');
  await screenshot(a.page, 'completions-04-fault');
  // Nothing left open upstream: completed, or aborted by a later keystroke (closed early).
  await waitFor('every upstream request closed', async () => upstream.requests.every((r) => r.closedAt !== undefined), 5000);
  const aborted = upstream.requests.filter((r) => r.outcome === 'closed_early');
  assert.ok(aborted.every((r) => !String(r.body?.prompt).endsWith('const total = ')), 'the completion that was shown was not aborted');
  upstream.configure({ fault: null });
  assert.deepEqual(uncaught.filter((m) => /cancel/i.test(m)), [], 'no uncaught cancellation errors while typing');

  // The owner sees the server's providers in the project settings.
  await a.page.goto(projectUrl + '/settings');
  const select = a.page.getByLabel('AI provider');
  await select.waitFor();
  assert.deepEqual(await select.locator('option').allTextContents(), ['Server default (Test coder)', 'Test coder — e2e-coder (fill-in-the-middle)']);
  await a.page.getByTestId('ai-settings').scrollIntoViewIfNeeded();
  await screenshot(a.page, 'completions-05-settings');
});

test('with no provider configured, the IDE and the settings say exactly what to configure', async (t) => {
  const u = await newUser(browser, bare.url);
  t.after(() => u.context.close());
  await signUp(u.page, 'Grace', 'grace-ai@example.com');
  await u.page.waitForURL(/\/projects$/);
  await u.page.getByPlaceholder('New project name').fill('No AI');
  await u.page.getByRole('button', { name: 'Create project' }).click();
  await u.page.waitForURL(/\/projects\/[\w-]+$/);
  const status = u.page.getByTestId('ai-status');
  await waitFor('the AI status', async () => (await status.getAttribute('data-state')) === 'unavailable');
  await status.click(); // the one-line status opens the full text
  const problem = u.page.getByTestId('ai-problem');
  assert.match(await problem.textContent() ?? '', /No AI provider is configured on this server\. To enable AI, set OPENAI_BASE_URL and OPENAI_MODEL .*TANDEM_LOCAL_MODEL_PATH/);
  await screenshot(u.page, 'completions-06-no-provider-ide');
  await u.page.goto(u.page.url() + '/settings');
  const settings = u.page.getByTestId('ai-not-configured');
  await settings.waitFor();
  assert.match(await settings.textContent() ?? '', /OPENAI_BASE_URL/);
  await settings.scrollIntoViewIfNeeded();
  await screenshot(u.page, 'completions-07-no-provider-settings');
});

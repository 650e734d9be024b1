import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { newUser, screenshot, signUp, trpc, useServerAndBrowser, waitFor } from './harness.ts';

/**
 * Runs and shared terminals in Chromium: an owner, an editor and a viewer on one project, with
 * real sandboxes (bubblewrap + cgroups) behind the server. Terminal text is read from xterm's
 * DOM rows.
 */
const e2e = useServerAndBrowser();


/** What the terminal shows (xterm's DOM rows; non-breaking spaces as spaces). */
const terminalText = (page: Page, terminalId: string) =>
  page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"] .xterm-rows`).innerText().then((t) => t.replace(/\u00a0/g, ' '), () => '');

/** A line holding only `42`: the command's output, not the command line that computed it. */
const shows42 = (text: string) => /^\s*42\s*$/m.test(text);

test('two people share a terminal and a run; a viewer watches but cannot type or run', async () => {
  const started = Date.now();
  const pageErrors: string[] = [];
  const [a, b, c] = await Promise.all([newUser(e2e.browser, e2e.server.url), newUser(e2e.browser, e2e.server.url), newUser(e2e.browser, e2e.server.url)]);
  for (const [name, u] of [['A', a], ['B', b], ['C', c]] as const) u.page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  await scenario(a.page, b.page, c.page);
  assert.deepEqual(pageErrors, []);
  for (const u of [a, b, c]) await u.context.close();
  console.log(`terminal e2e scenario took ${Date.now() - started} ms`);
});

async function scenario(...pages: [Page, Page, Page]): Promise<void> {
  const [a, b, c] = pages.map((page) => ({ page })) as [{ page: Page }, { page: Page }, { page: Page }];

  await signUp(a.page, 'Ada Lovelace', 'ada-term@example.com');
  await a.page.waitForURL(/\/projects$/);
  const project = await trpc<{ id: string }>(a.page, 'mutation', 'projects.create', { name: 'Shared run', template: 'node' });
  const projectUrl = `/projects/${project.id}`;
  const editorInvite = await trpc<{ token: string }>(a.page, 'mutation', 'invites.create', { projectId: project.id, role: 'editor' });
  const viewerInvite = await trpc<{ token: string }>(a.page, 'mutation', 'invites.create', { projectId: project.id, role: 'viewer' });
  await Promise.all([
    (async () => {
      await signUp(b.page, 'Charles Babbage', 'charles-term@example.com');
      await b.page.waitForURL(/\/projects$/);
      await trpc(b.page, 'mutation', 'invites.accept', { token: editorInvite.token });
    })(),
    (async () => {
      await signUp(c.page, 'Grace Hopper', 'grace-term@example.com');
      await c.page.waitForURL(/\/projects$/);
      await trpc(c.page, 'mutation', 'invites.accept', { token: viewerInvite.token });
    })(),
  ]);
  await Promise.all([a, b, c].map((u) => u.page.goto(projectUrl)));
  await Promise.all([a, b, c].map((u) => u.page.getByTestId('sandbox-panel').waitFor()));

  // The Run button: A runs the starter; everyone sees the output, the exit code and the duration.
  assert.equal(await c.page.getByTestId('run-button').isDisabled(), true, 'a viewer cannot run');
  await a.page.getByTestId('run-button').click();
  for (const u of [a, b, c]) {
    await u.page.locator('[data-testid=run-output]', { hasText: 'Hello, Tandem!' }).waitFor();
    await u.page.locator('[data-testid=run-status]', { hasText: 'Exit 0' }).waitFor();
    assert.match(await u.page.getByTestId('run-end').innerText(), /Exited with code 0 · [\d,]+ ms/);
  }
  assert.match(await b.page.getByTestId('run-duration').innerText(), /^\d+ ms$|^[\d.]+ s$/);
  await screenshot(b.page, 'terminal-01-run-output-editor');

  // A opens a terminal; it appears for B and C; A types, both see 42.
  await a.page.getByTestId('new-terminal').click();
  const tab = a.page.locator('[data-testid=terminal-tab]').first();
  await tab.waitFor();
  const terminalId = (await tab.getAttribute('data-terminal-id'))!;
  for (const u of [b, c]) await u.page.locator(`[data-testid=terminal-tab][data-terminal-id="${terminalId}"]`).click();
  await waitFor('the shell prompt for A', async () => (await terminalText(a.page, terminalId)).includes('$'));
  await a.page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"]`).click();
  await a.page.keyboard.type('node -e "console.log(6*7)"');
  await a.page.keyboard.press('Enter');
  for (const u of [a, b, c]) await waitFor('42 in every browser', async () => shows42(await terminalText(u.page, terminalId)));
  await screenshot(a.page, 'terminal-02-owner-typed');

  // B (an editor) types too, into the same shell.
  await b.page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"]`).click();
  await b.page.keyboard.type('echo "from Charles: $((20+22))"');
  await b.page.keyboard.press('Enter');
  for (const u of [a, c]) await waitFor('B\'s command everywhere', async () => (await terminalText(u.page, terminalId)).includes('from Charles: 42'));

  // C (a viewer) types: nothing reaches the shell.
  assert.equal(await c.page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"]`).getAttribute('data-can-type'), 'false');
  await c.page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"]`).click();
  await c.page.keyboard.type('echo VIEWER-WAS-HERE');
  await c.page.keyboard.press('Enter');
  const refused = await c.page.evaluate(async ({ projectId, terminalId }) => {
    const res = await fetch('/api/trpc/sandbox.terminals.write', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ projectId, terminalId, data: 'echo VIEWER-API\r' }) });
    return res.status;
  }, { projectId: project.id, terminalId });
  assert.equal(refused, 403, 'the server refuses a viewer\'s write');
  await a.page.waitForTimeout(500);
  for (const u of [a, b, c]) assert.ok(!(await terminalText(u.page, terminalId)).includes('VIEWER'), 'the viewer\'s keystrokes are ignored');
  const scroll = await trpc<{ data: string }>(a.page, 'query', 'sandbox.terminals.scrollback', { projectId: project.id, terminalId });
  assert.ok(!scroll.data.includes('VIEWER'));
  await screenshot(c.page, 'terminal-03-viewer-watching');

  // A reload reattaches with the scrollback.
  await b.page.reload();
  await b.page.locator(`[data-testid=terminal-tab][data-terminal-id="${terminalId}"]`).click();
  await waitFor('scrollback after reload', async () => {
    const text = await terminalText(b.page, terminalId);
    return shows42(text) && text.includes('from Charles: 42');
  });
  await screenshot(b.page, 'terminal-04-after-reload');

  // The run command is set in the project settings; the run writes a file and is stopped by B.
  await a.page.goto(`${projectUrl}/settings`);
  const commandInput = a.page.getByLabel('Run command', { exact: true });
  await commandInput.fill('mkdir -p out && echo "answer: $((6*7))" > out/result.txt && echo wrote out/result.txt && sleep 30');
  await a.page.getByTestId('run-command-settings').getByRole('button', { name: 'Save' }).click();
  await a.page.getByText('Saved. Run uses this command now.').waitFor();
  await screenshot(a.page, 'terminal-05-settings-run-command');
  await a.page.goto(projectUrl);
  await a.page.getByTestId('run-button').click();
  await b.page.locator('[data-testid=run-output]', { hasText: 'wrote out/result.txt' }).waitFor();
  await b.page.getByTestId('stop-button').click();
  for (const u of [a, b, c]) {
    await u.page.locator('[data-testid=run-status]', { hasText: 'Stopped' }).waitFor();
    await u.page.locator('[data-testid=run-end]', { hasText: 'Stopped by Charles Babbage ·' }).waitFor();
    await u.page.locator('[data-testid=generated-file][data-path="out/result.txt"]').waitFor();
  }
  assert.equal(await c.page.getByRole('button', { name: 'Import into project' }).count(), 0, 'viewers cannot import');
  await screenshot(c.page, 'terminal-06-stopped-generated-viewer');
  await a.page.getByRole('button', { name: 'Import into project' }).click();
  await b.page.locator('[data-testid=tree-item][data-path="out/result.txt"]').waitFor();
  for (const u of [a, b, c]) await u.page.locator('[data-testid=generated-file]').waitFor({ state: 'detached' });
  await screenshot(b.page, 'terminal-07-imported');
}

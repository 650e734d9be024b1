import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { editorValue, newUser, openFile, screenshot, signUp, trpc, useServerAndBrowser, waitFor } from './harness.ts';
import { previewAppCommand } from '@tandem/sandbox/testing';

/**
 * Preview in Chromium: A starts an app from a shared terminal; A and B (an editor) both see it in
 * the Preview tab (served from its own origin, <projectId>-<port>.localhost); B edits README.md,
 * the app's live-reload socket (through the preview's WebSocket proxy) refreshes both previews.
 * A page served from the sandbox cannot read or use the IDE session.
 */
const e2e = useServerAndBrowser();


const APP_PORT = 8000;

async function previewFrame(page: Page): Promise<Frame> {
  const handle = await page.getByTestId('preview-frame').elementHandle({ timeout: 30_000 });
  const frame = await handle!.contentFrame();
  assert.ok(frame, 'the preview iframe has a frame');
  return frame;
}

test('A starts an app in a terminal; A and B see it; B edits a file and both previews update; the app cannot use the IDE session', async () => {
  const pageErrors: string[] = [];
  const [a, b] = await Promise.all([newUser(e2e.browser, e2e.server.url), newUser(e2e.browser, e2e.server.url)]);
  for (const [name, u] of [['A', a], ['B', b]] as const) u.page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));

  await signUp(a.page, 'Ada Lovelace', 'ada-preview@example.com');
  await a.page.waitForURL(/\/projects$/);
  const project = await trpc<{ id: string }>(a.page, 'mutation', 'projects.create', { name: 'Preview together', template: 'node' });
  const invite = await trpc<{ token: string }>(a.page, 'mutation', 'invites.create', { projectId: project.id, role: 'editor' });
  await signUp(b.page, 'Charles Babbage', 'charles-preview@example.com');
  await b.page.waitForURL(/\/projects$/);
  await trpc(b.page, 'mutation', 'invites.accept', { token: invite.token });
  const projectUrl = `/projects/${project.id}`;
  await Promise.all([a, b].map((u) => u.page.goto(projectUrl)));
  await Promise.all([a, b].map((u) => u.page.getByTestId('sandbox-panel').waitFor()));

  // A starts the app from a terminal.
  await a.page.getByTestId('new-terminal').click();
  const tab = a.page.locator('[data-testid=terminal-tab]').first();
  await tab.waitFor();
  const terminalId = (await tab.getAttribute('data-terminal-id'))!;
  const term = a.page.locator(`[data-testid=terminal][data-terminal-id="${terminalId}"]`);
  await waitFor('the shell prompt', async () => (await term.locator('.xterm-rows').innerText().catch(() => '')).includes('$'), 30_000);
  await term.click();
  await a.page.keyboard.type(previewAppCommand(APP_PORT));
  await a.page.keyboard.press('Enter');

  // Both see the Preview tab and the app (README.md rendered by the app).
  for (const u of [a, b]) {
    await u.page.getByTestId('preview-tab').waitFor({ timeout: 30_000 });
    await u.page.getByTestId('preview-tab').click();
  }
  const url = await a.page.getByTestId('preview-url').innerText();
  assert.match(url, new RegExp(`^http://${project.id}-${APP_PORT}\\.localhost:\\d+$`));
  for (const u of [a, b]) {
    const frame = await previewFrame(u.page);
    await frame.locator('#readme', { hasText: 'Hello Tandem' }).waitFor({ timeout: 30_000 });
  }
  await screenshot(a.page, 'preview-01-owner');
  await screenshot(b.page, 'preview-02-editor');

  // B edits README.md; while the app is previewed the working copy follows the documents, and the
  // app's live-reload socket (through the preview's WebSocket proxy) reloads both previews.
  await openFile(b.page, 'README.md');
  // Typing before the document is bound to the editor would go nowhere.
  await waitFor('README.md in the editor', async () => (await editorValue(b.page)).startsWith('# Hello Tandem'));
  await b.page.locator('.monaco-editor .view-lines').first().click();
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('\nEdited by Charles.');
  for (const u of [a, b]) {
    await waitFor('the edited README in the preview', async () => {
      const frame = await previewFrame(u.page);
      return (await frame.locator('#readme').innerText().catch(() => '')).includes('Edited by Charles.');
    }, 30_000);
  }
  await screenshot(b.page, 'preview-03-after-edit');

  // Cookie isolation: a page from the sandbox, opened in A's browser, cannot see or use A's session.
  const probe = await a.context.newPage();
  const ticket = await trpc<{ url: string }>(a.page, 'mutation', 'network.previewTicket', { projectId: project.id, port: APP_PORT });
  await probe.goto(ticket.url);
  await probe.goto(`${new URL(ticket.url).origin}/probe?ide=${encodeURIComponent(e2e.server.url)}`);
  await waitFor('the probe result', async () => (await probe.locator('#result').innerText()) !== 'running', 15_000);
  const result = JSON.parse(await probe.locator('#result').innerText()) as { cookie: string; me: string; post: string };
  assert.equal(result.cookie, '', 'no cookie is readable from the preview origin (the IDE session is host-only, the preview cookie HttpOnly)');
  assert.match(result.me, /^blocked: /, `the IDE API is not readable cross-origin: ${result.me}`);
  const echoed = await probe.evaluate(async () => (await fetch('/anything')).text());
  assert.doesNotMatch(echoed, /tandem_session|tandem_preview/, `the app receives neither cookie: ${echoed}`);
  const projects = await trpc<{ name: string }[]>(a.page, 'query', 'projects.list', {});
  assert.ok(!JSON.stringify(projects).includes('pwned'), 'a blind cross-site POST did not act as A');
  const ideCookies = await a.context.cookies(e2e.server.url);
  assert.ok(ideCookies.some((c) => c.name === 'tandem_session'), 'A is signed in to the IDE');
  await screenshot(probe, 'preview-04-probe');
  await probe.close();

  // A non-member's browser gets nothing from the preview origin.
  const [outsider] = await Promise.all([newUser(e2e.browser, e2e.server.url)]);
  const res = await outsider.page.goto(`${new URL(ticket.url).origin}/`);
  assert.equal(res?.status(), 401);
  await outsider.context.close();

  // Narrow viewport: the Preview tab still lays out.
  await a.page.setViewportSize({ width: 800, height: 800 });
  await screenshot(a.page, 'preview-05-owner-800');

  // Project settings show the network allowlist (the server's registries; owners add within the ceiling).
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await a.page.goto(`${projectUrl}/settings`);
  const card = a.page.getByTestId('network-settings');
  await card.getByText('registry.npmjs.org').waitFor();
  await card.scrollIntoViewIfNeeded();
  await screenshot(a.page, 'preview-06-network-settings');
  assert.deepEqual(pageErrors, []);
  for (const u of [a, b]) await u.context.close();
});

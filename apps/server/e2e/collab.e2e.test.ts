import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { editorValue, launchBrowser, newUser, removeDir, screenshot, signUp, startServerProcess, trpc, waitFor, type RunningServer } from './harness.ts';

/**
 * The IDE, live, in Chromium: an owner, an editor and a viewer in three browser contexts on one
 * project. Text is read through `window.__tandem` (Monaco renders spaces as U+00A0).
 */
declare global {
  interface Window {
    /** The IDE's read-only test hook (apps/web lib/ide/testHook.ts). */
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

let server: RunningServer;
let browser: Browser;
before(async () => {
  server = await startServerProcess();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

const value = editorValue;
const activeFileId = (page: Page) => page.evaluate(() => window.__tandem?.activeFile() ?? null);


const treeItem = (page: Page, path: string) => page.locator(`[data-testid=tree-item][data-path="${path}"]`);

async function openFile(page: Page, path: string): Promise<void> {
  await treeItem(page, path).click();
  await page.locator(`[data-testid=tab][data-path="${path}"][aria-selected=true]`).waitFor();
}

/** Clicks at the end of the text and types there. */
async function typeAtEnd(page: Page, text: string): Promise<void> {
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}



async function joinWithInvite(page: Page, name: string, email: string, inviteUrl: string, projectUrl: string): Promise<void> {
  await signUp(page, name, email, new URL(inviteUrl).pathname);
  await page.getByRole('button', { name: 'Join project' }).click();
  await page.waitForURL(projectUrl);
}

test('owner, editor and viewer edit one project live', async () => {
  const started = Date.now();
  const a = await newUser(browser, server.url);
  const pageErrors: string[] = [];
  a.page.on('pageerror', (e) => pageErrors.push(`A: ${e.message}`));
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Engine');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const projectId = projectUrl.split('/').pop()!;
  // The IDE opens the README on first visit.
  await a.page.locator('[data-testid=tab][data-path="README.md"][aria-selected=true]').waitFor();
  await waitFor('README content', async () => (await value(a.page)).startsWith('# Hello Tandem'));
  assert.equal(await a.page.getByTestId('role').textContent(), 'owner');
  await a.page.locator('[data-testid=connection][data-state=connected]').waitFor();

  const editorInvite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'editor' });
  const viewerInvite = await trpc<{ url: string }>(a.page, 'mutation', 'invites.create', { projectId, role: 'viewer' });
  const b = await newUser(browser, server.url);
  const c = await newUser(browser, server.url);
  b.page.on('pageerror', (e) => pageErrors.push(`B: ${e.message}`));
  c.page.on('pageerror', (e) => pageErrors.push(`C: ${e.message}`));
  await Promise.all([
    joinWithInvite(b.page, 'Charles Babbage', 'charles@example.com', editorInvite.url, projectUrl),
    joinWithInvite(c.page, 'Grace Hopper', 'grace@example.com', viewerInvite.url, projectUrl),
  ]);

  // Presence: everyone is listed, with the file they are in.
  await waitFor('three participants', async () => (await a.page.getByTestId('participant').count()) === 3);

  // A and B type into the same file and converge.
  await Promise.all([openFile(a.page, 'src/index.js'), openFile(b.page, 'src/index.js')]);
  await waitFor('B has the file', async () => (await value(b.page)).includes("greet('Tandem')"));
  await typeAtEnd(a.page, '// from Ada\n');
  await typeAtEnd(b.page, '// from Charles\n');
  await waitFor('both edits everywhere', async () => {
    const [va, vb] = [await value(a.page), await value(b.page)];
    return va === vb && va.includes('// from Ada') && va.includes('// from Charles');
  });

  // Remote cursors carry the other person's name.
  await b.page.keyboard.press('Control+Home');
  await b.page.keyboard.press('Shift+End');
  await a.page.locator('.remote-cursor-label', { hasText: 'Charles Babbage' }).waitFor();
  await a.page.locator('.yRemoteSelection').waitFor();
  await b.page.locator('.remote-cursor-label', { hasText: 'Ada Lovelace' }).waitFor();
  await screenshot(a.page, 'collab-01-owner-editing');
  await screenshot(b.page, 'collab-02-editor-editing');

  // Undo only undoes your own edits.
  await typeAtEnd(a.page, 'const undoMe = 1;');
  await waitFor('B sees undoMe', async () => (await value(b.page)).includes('undoMe'));
  await a.page.keyboard.press('Control+z');
  await waitFor('undo converges', async () => {
    const [va, vb] = [await value(a.page), await value(b.page)];
    return va === vb && !va.includes('undoMe');
  });
  const afterUndo = await value(a.page);
  assert.ok(afterUndo.includes('// from Charles') && afterUndo.includes('// from Ada'), afterUndo);

  // The viewer sees the text but cannot change it.
  await openFile(c.page, 'src/index.js');
  await waitFor('viewer has the file', async () => (await value(c.page)) === afterUndo);
  assert.equal(await c.page.evaluate(() => window.__tandem?.readOnly()), true);
  await c.page.getByTestId('read-only').waitFor();
  assert.equal(await c.page.getByRole('button', { name: 'New file' }).isDisabled(), true);
  await typeAtEnd(c.page, 'viewer was here');
  await c.page.waitForTimeout(300);
  assert.equal(await value(c.page), afterUndo);
  assert.equal(await value(a.page), afterUndo);
  await screenshot(c.page, 'collab-03-viewer');

  // Follow mode: B follows A across files, then clicks into the editor and stops following.
  await b.page.locator('[data-testid=participant][data-name="Ada Lovelace"]').click();
  await b.page.getByTestId('follow-bar').waitFor();
  await openFile(a.page, 'src/greet.js');
  const greetId = await activeFileId(a.page);
  await waitFor('B follows A into greet.js', async () => (await activeFileId(b.page)) === greetId);
  await waitFor('B sees greet.js', async () => (await value(b.page)).includes('export function greet'));
  await screenshot(b.page, 'collab-04-following');
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.getByTestId('follow-bar').waitFor({ state: 'detached' });
  await openFile(a.page, 'package.json');
  await b.page.waitForTimeout(300);
  assert.equal(await activeFileId(b.page), greetId, 'B no longer follows A');

  // A new file created in A's tree appears in B's; deleting it closes B's tab.
  await a.page.getByRole('button', { name: 'New file' }).click();
  await a.page.getByLabel('New file path').fill('src/util/math.js');
  await a.page.getByLabel('New file path').press('Enter');
  await a.page.locator('[data-testid=tab][data-path="src/util/math.js"][aria-selected=true]').waitFor();
  await typeAtEnd(a.page, 'export const add = (x, y) => x + y;\n');
  await treeItem(b.page, 'src/util/math.js').waitFor();
  await openFile(b.page, 'src/util/math.js');
  await waitFor('B sees math.js', async () => (await value(b.page)).includes('export const add'));
  // Duplicates are refused with a message.
  await a.page.getByRole('button', { name: 'New file' }).click();
  await a.page.getByLabel('New file path').fill('src/util/math.js');
  await a.page.getByLabel('New file path').press('Enter');
  assert.match(await a.page.locator('.tree-error').textContent() ?? '', /already exists/);
  await screenshot(a.page, 'collab-05b-duplicate-refused');
  await a.page.getByLabel('New file path').press('Escape');
  await screenshot(b.page, 'collab-05-new-file');
  await treeItem(a.page, 'src/util/math.js').hover();
  await a.page.getByRole('button', { name: 'Delete src/util/math.js' }).click();
  await screenshot(a.page, 'collab-05c-delete-confirm');
  await a.page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await b.page.locator('[data-testid=tab][data-path="src/util/math.js"]').waitFor({ state: 'detached' });
  await treeItem(b.page, 'src/util/math.js').waitFor({ state: 'detached' });
  // B is told why the tab went away; A, who deleted it, is not.
  await b.page.getByTestId('notice').filter({ hasText: '“src/util/math.js” was deleted by someone else' }).waitFor();
  assert.equal(await a.page.getByTestId('notice').filter({ hasText: 'was deleted' }).count(), 0);
  await b.page.getByTestId('notice').getByRole('button', { name: 'Dismiss' }).click();

  // Download: the zip holds every file with the live text.
  const [download] = await Promise.all([a.page.waitForEvent('download'), a.page.getByTestId('download-zip').click()]);
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  assert.deepEqual(Object.keys(zip).sort(), ['README.md', 'package.json', 'src/greet.js', 'src/index.js', 'tandem.json']);
  assert.equal(strFromU8(zip['src/index.js']!), afterUndo);

  // Upload: text and binary files are imported live; viewers may not upload.
  const upload = zipSync({ 'docs/notes.md': strToU8('# Notes\n'), 'logo.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]) });
  await a.page.getByTestId('upload-input').setInputFiles({ name: 'import.zip', mimeType: 'application/zip', buffer: Buffer.from(upload) });
  const notice = a.page.getByTestId('notice');
  await notice.waitFor();
  assert.match(await notice.textContent() ?? '', /Imported 2 files\./);
  await treeItem(b.page, 'docs/notes.md').waitFor();
  await treeItem(b.page, 'logo.png').waitFor();
  const viewerUpload = await c.page.evaluate(async (id) => {
    const res = await fetch(`/api/projects/${id}/upload`, { method: 'POST', headers: { 'content-type': 'application/zip' }, body: new Uint8Array([1]) });
    return { status: res.status, body: await res.json() };
  }, projectId);
  assert.equal(viewerUpload.status, 403);
  assert.match(viewerUpload.body.error.message, /editor role/);
  await screenshot(a.page, 'collab-06-upload');

  // Rename (a move is a rename of the path) shows up for everyone.
  await treeItem(a.page, 'docs/notes.md').hover();
  await a.page.getByRole('button', { name: 'Rename docs/notes.md' }).click();
  await a.page.getByLabel('New path for docs/notes.md').fill('guide/notes.md');
  await a.page.getByLabel('New path for docs/notes.md').press('Enter');
  await treeItem(b.page, 'guide/notes.md').waitFor();
  await treeItem(b.page, 'docs/notes.md').waitFor({ state: 'detached' });
  // Drag and drop moves too.
  await treeItem(a.page, 'guide/notes.md').dragTo(treeItem(a.page, 'src'));
  await treeItem(b.page, 'src/notes.md').waitFor();
  await treeItem(b.page, 'guide/notes.md').waitFor({ state: 'detached' });

  // Access changes reach open editors: B becomes a viewer, C is removed.
  const members = await trpc<{ id: string; name: string }[]>(a.page, 'query', 'members.list', { projectId });
  const idOf = (name: string) => members.find((m) => m.name === name)!.id;
  await trpc(a.page, 'mutation', 'members.setRole', { projectId, userId: idOf('Charles Babbage'), role: 'viewer' });
  await b.page.getByTestId('notice').filter({ hasText: 'Your role changed to viewer' }).waitFor();
  await waitFor('B read-only', async () => (await b.page.evaluate(() => window.__tandem?.readOnly())) === true);
  await b.page.locator('[data-testid=connection][data-state=connected]').waitFor();
  // After reconnecting, people see each other again at once (not after the 15 s presence renewal).
  await b.page.locator('[data-testid=participant][data-name="Ada Lovelace"]').waitFor({ timeout: 5000 });
  await a.page.locator('[data-testid=participant][data-name="Charles Babbage"]').waitFor({ timeout: 5000 });
  await trpc(a.page, 'mutation', 'members.remove', { projectId, userId: idOf('Grace Hopper') });
  await c.page.getByTestId('session-ended').filter({ hasText: 'You were removed from this project' }).waitFor();
  assert.equal(await c.page.getByTestId('connection').getAttribute('data-state'), 'ended');
  await screenshot(b.page, 'collab-07-role-changed');
  await screenshot(c.page, 'collab-08-removed');

  assert.deepEqual(pageErrors, []);
  for (const u of [a, b, c]) await u.context.close();
  console.log(`collab e2e scenario took ${Date.now() - started} ms`);
});

test('edits made while the server is down merge when it comes back', async () => {
  const a = await newUser(browser, server.url);
  await signUp(a.page, 'Alan Turing', 'alan@example.com');
  await a.page.waitForURL(/\/projects$/);
  const project = await trpc<{ id: string }>(a.page, 'mutation', 'projects.create', { name: 'Offline', template: 'node' });
  const second = await a.context.newPage();
  const tabs = [a.page, second];
  for (const page of tabs) {
    await page.goto(`/projects/${project.id}`);
    await openFile(page, 'src/greet.js');
    await waitFor('file loaded', async () => (await value(page)).includes('export function greet'));
  }

  const port = new URL(server.url).port;
  await server.stop();
  for (const page of tabs) await page.getByTestId('offline-banner').waitFor();
  await typeAtEnd(a.page, '// typed offline in tab 1\n');
  await typeAtEnd(second, '// typed offline in tab 2\n');
  await screenshot(a.page, 'collab-09-offline');

  server = await startServerProcess({ PORT: port }, server.dataDir);
  await waitFor('offline edits merged', async () => {
    const [one, two] = [await value(a.page), await value(second)];
    return one === two && one.includes('typed offline in tab 1') && one.includes('typed offline in tab 2');
  }, 20_000);
  for (const page of tabs) await page.locator('[data-testid=connection][data-state=connected]').waitFor();
  await a.context.close();
});

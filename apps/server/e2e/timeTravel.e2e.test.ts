import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { editorValue, inviteAndJoin, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, waitFor, type RunningServer } from './harness.ts';

/**
 * Time travel in two real browsers: Ada and Charles each add a line; Ada opens the file's
 * history, moves the slider back to her own change and sees that version (without Charles's
 * line) and its author, then a diff with now; meanwhile Charles keeps typing, undisturbed, and
 * what he types reaches Ada's editor.
 */
let server: RunningServer;
let browser: Browser;

before(async () => {
  server = await startServerProcess({});
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (server) removeDir(server.dataDir);
});

test('History: the slider replays the file with its authors while someone keeps editing live', async () => {
  const a = await newUser(browser, server.url);
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Replay');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const b = await newUser(browser, server.url);
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Charles Babbage', 'charles@example.com');
  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('the file is loaded', async () => (await editorValue(b.page)).includes('greet'));

  await a.page.locator('.monaco-editor .view-lines').click();
  await a.page.keyboard.press('Control+Home');
  await a.page.keyboard.type('// Ada was here\n');
  await waitFor('Charles has Ada\'s line', async () => (await editorValue(b.page)).includes('// Ada was here'));
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('// Charles too\n');
  await waitFor('Ada has Charles\'s line', async () => (await editorValue(a.page)).includes('// Charles too'));

  await a.page.setViewportSize({ width: 1440, height: 900 });
  await a.page.getByTestId('open-time-travel').click();
  const dialog = a.page.getByTestId('time-travel');
  const slider = dialog.getByTestId('time-travel-slider');
  await slider.waitFor();
  await waitFor('the newest step is Charles\'s', async () => (await dialog.getByTestId('time-travel-step').innerText()).includes('Charles Babbage'));
  await waitFor('the newest version has both lines', async () => {
    const text = await dialog.getByTestId('time-travel-text').innerText();
    return text.includes('// Ada was here') && text.includes('// Charles too');
  });

  // Charles keeps typing while Ada travels back.
  let typing = true;
  const charles = (async () => {
    for (let i = 0; typing && i < 40; i++) await b.page.keyboard.type(`k${i} `, { delay: 15 });
  })();
  await slider.focus();
  await a.page.keyboard.press('ArrowLeft');
  await waitFor('the step before is Ada\'s', async () => (await dialog.getByTestId('time-travel-step').innerText()).includes('Ada Lovelace'));
  await waitFor('that version has Ada\'s line but not Charles\'s', async () => {
    const text = await dialog.getByTestId('time-travel-text').innerText();
    return text.includes('// Ada was here') && !text.includes('// Charles too');
  });
  await screenshot(a.page, 'time-travel-01-older-version-1440');
  await dialog.getByTestId('time-travel-diff').click();
  await dialog.getByTestId('time-travel-hunks').getByText('+ // Charles too').waitFor();
  await a.page.setViewportSize({ width: 800, height: 900 });
  await screenshot(a.page, 'time-travel-02-diff-800');
  typing = false;
  await charles;

  // Charles was not disturbed: everything he typed is in his editor and reached Ada's.
  const his = await editorValue(b.page);
  assert.match(his, /\/\/ Charles too\nk0 k1 /);
  await waitFor('Ada\'s editor has what Charles typed meanwhile', async () => (await editorValue(a.page)) === his);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });
});

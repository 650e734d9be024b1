import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, editorValue, inviteAndJoin, launchBrowser, newUser, openFile, removeDir, screenshot, signUp, startServerProcess, waitFor, type RunningServer } from './harness.ts';

/**
 * Time travel in two real browsers: Ada and Charles each add a line; Ada opens the file's
 * history, moves the slider back to her own change and sees that version (without Charles's
 * line) and its author, then a diff with now; meanwhile Charles keeps typing, undisturbed, and
 * what he types reaches Ada's editor. Then the project: Charles changes another file, and Ada
 * scrubs the session across files (which files each step changed, by whom), views greet.js at
 * her step and diffs the newest point against it.
 */
/** Screenshots of the dialog (look at them when changing it). */
const SHOTS = process.env.TANDEM_SHOTS_DIR ?? join(ARTIFACTS, 'time-travel');
let server: RunningServer;
let browser: Browser;

before(async () => {
  server = await startServerProcess({});
  browser = await launchBrowser();
  mkdirSync(SHOTS, { recursive: true });
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
  const created = Date.now();
  const projectUrl = a.page.url();
  const b = await newUser(browser, server.url);
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Charles Babbage', 'charles@example.com');
  await Promise.all([openFile(a.page, 'src/greet.js'), openFile(b.page, 'src/greet.js')]);
  await waitFor('the file is loaded', async () => (await editorValue(b.page)).includes('greet'));

  // A project step is one author's changes with pauses of at most 5 s: Ada's line must be a step
  // of its own, after the one that created the project.
  await a.page.waitForTimeout(Math.max(0, created + 5_500 - Date.now()));
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

  // The project: Charles changes another file; Ada replays the session across files.
  await openFile(b.page, 'src/index.js');
  await b.page.locator('.monaco-editor .view-lines').click();
  await b.page.keyboard.press('Control+End');
  await b.page.keyboard.type('// Charles in index\n');
  await waitFor('Charles\'s index.js line is stored', async () => (await editorValue(b.page)).includes('// Charles in index'));
  await a.page.setViewportSize({ width: 1440, height: 900 });
  await dialog.getByTestId('time-travel-project-tab').click();
  const replay = dialog.getByTestId('project-replay');
  const projectSlider = replay.getByTestId('project-slider');
  await projectSlider.waitFor();
  const stepText = () => replay.getByTestId('project-step').innerText();
  const stepFiles = () => replay.getByTestId('project-step-files').innerText();
  const shownText = () => replay.getByTestId('time-travel-text').innerText();
  await waitFor('the newest step is Charles\'s, in src/index.js', async () => (await stepText()).includes('Charles Babbage') && (await stepFiles()).includes('src/index.js'));
  // (His typing in greet.js may be in the same burst: pick index.js among the step's files.)
  await replay.getByTestId('project-step-file').filter({ hasText: 'src/index.js' }).click();
  await waitFor('index.js with his line', async () => (await shownText()).includes('// Charles in index'));
  await a.page.screenshot({ path: join(SHOTS, 'project-replay-newest-1440.png') });
  await replay.getByTestId('project-file').selectOption('');

  // The first step: Ada created the project, every file of the template at once.
  await projectSlider.focus();
  await a.page.keyboard.press('Home');
  await waitFor('the first step is Ada\'s project creation', async () => (await stepText()).includes('Ada Lovelace') && (await stepFiles()).includes('package.json') && (await stepFiles()).includes('src/greet.js'));
  // Scrub forward to Ada's line in greet.js: shown without Charles's, then diffed against now.
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await a.page.keyboard.press('ArrowRight');
    await a.page.waitForTimeout(150);
    found = (await stepText()).includes('Ada Lovelace') && (await stepFiles()).includes('src/greet.js') && !(await stepFiles()).includes('package.json');
  }
  assert.ok(found, 'a step with Ada\'s change to greet.js');
  await waitFor('greet.js then: Ada\'s line, not Charles\'s', async () => {
    const text = await shownText();
    return text.includes('// Ada was here') && !text.includes('// Charles too');
  });
  await a.page.screenshot({ path: join(SHOTS, 'project-replay-1440.png') });
  await replay.getByTestId('project-pin').click();
  await projectSlider.focus();
  await a.page.keyboard.press('End');
  await waitFor('the newest step again', async () => (await stepText()).includes('Charles Babbage'));
  await replay.getByTestId('project-file').selectOption({ label: 'src/greet.js' });
  await replay.getByTestId('project-diff').click();
  await replay.getByTestId('time-travel-hunks').getByText('- // Charles too').waitFor();
  await a.page.setViewportSize({ width: 800, height: 900 });
  await a.page.screenshot({ path: join(SHOTS, 'project-replay-diff-800.png') });

  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden' });
  await waitFor('Ada\'s index.js has Charles\'s line', async () => {
    await openFile(a.page, 'src/index.js');
    return (await editorValue(a.page)).includes('// Charles in index');
  });
});

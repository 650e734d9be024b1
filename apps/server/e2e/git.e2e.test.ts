import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { GitHttpServer } from '../src/testing/GitHttpServer.ts';
import { launchBrowser, newUser, openFile, editorValue, removeDir, screenshot, signUp, startServerProcess, waitFor, type RunningServer } from './harness.ts';

/**
 * Git in a real browser: Ada imports a repository from a loopback git server ("Import from git" on
 * the projects page), sets the project's remote with a token in the Checkpoints dialog and pushes;
 * the git CLI reads the pushed branch back.
 */
declare global {
  interface Window {
    __tandem?: { getValue(): string; activeFile(): string | null; readOnly(): boolean };
  }
}

const TOKEN = 'e2e-secret-token';
let dir: string;
let gitServer: GitHttpServer;
let gitHost: string;
let server: RunningServer;
let browser: Browser;
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-git-e2e-'));
  const work = join(dir, 'work');
  mkdirSync(join(work, 'src'), { recursive: true });
  writeFileSync(join(work, 'README.md'), '# Imported\n');
  writeFileSync(join(work, 'src', 'index.js'), 'console.log("from git");\n');
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, '-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', 'first');
  mkdirSync(join(dir, 'repos'));
  git(dir, 'clone', '-q', '--bare', work, join(dir, 'repos', 'source.git'));
  git(dir, 'init', '-q', '--bare', join(dir, 'repos', 'remote.git'));
  git(join(dir, 'repos', 'remote.git'), 'config', 'http.receivepack', 'true');
  gitServer = new GitHttpServer(join(dir, 'repos'), TOKEN);
  gitHost = await gitServer.listen();
  server = await startServerProcess({ TANDEM_GIT_PRIVATE_HOSTS: gitHost });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await gitServer?.close();
  if (server) removeDir(server.dataDir);
  rmSync(dir, { recursive: true, force: true });
});

test('Import from git on the projects page, then Push from the Checkpoints dialog', async () => {
  const { page } = await newUser(browser, server.url);
  await page.setViewportSize({ width: 1440, height: 900 });
  await signUp(page, 'Ada Lovelace', 'ada@example.com');
  await page.waitForURL(/\/projects$/);
  await page.getByTestId('git-import-toggle').click();
  await page.getByLabel('Repository URL').fill(`http://${gitHost}/source.git`);
  await screenshot(page, 'git-01-import-1440');
  await page.setViewportSize({ width: 800, height: 900 });
  await screenshot(page, 'git-02-import-800');
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForURL(/\/projects\/[\w-]+$/, { timeout: 30_000 });
  await openFile(page, 'src/index.js');
  await waitFor('the imported file is shown', async () => (await editorValue(page)).includes('from git'));

  await page.getByTestId('open-checkpoints').click();
  const panel = page.getByTestId('git-push');
  await panel.getByRole('button', { name: 'Set remote' }).click();
  await panel.getByLabel('Remote URL').fill(`http://${gitHost}/remote.git`);
  await panel.getByLabel('Access token').fill(TOKEN);
  await screenshot(page, 'git-03-remote-form-1440');
  await panel.getByRole('button', { name: 'Save' }).click();
  await panel.getByText('token set').waitFor();
  await panel.getByTestId('git-push-button').click();
  await panel.getByText(/Pushed \d+ commit\(s\)/).waitFor({ timeout: 30_000 });
  await screenshot(page, 'git-04-push-1440');
  await page.setViewportSize({ width: 800, height: 900 });
  await screenshot(page, 'git-05-push-800');
  assert.ok(!(await page.content()).includes(TOKEN), 'the token is not in the page');

  const clone = join(dir, 'pushed');
  git(dir, 'clone', '-q', '--branch', 'tandem/checkpoints', join(dir, 'repos', 'remote.git'), clone);
  assert.equal(git(clone, 'log', '-1', '--format=%an|%s').trim(), 'Ada Lovelace|Current state');
  assert.equal(git(clone, 'show', 'HEAD:src/index.js'), 'console.log("from git");\n');
});

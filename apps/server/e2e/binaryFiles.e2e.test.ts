import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { inviteAndJoin, newUser, screenshot, signUp, useServerAndBrowser, waitFor } from './harness.ts';

/**
 * Binary files in two real browsers: Ada uploads a PNG with the Upload button and drops a font
 * onto the file tree; Charles sees both appear in his tree, previews the image (decoded by the
 * browser from the members-only route) and gets a download card for the font.
 */
const e2e = useServerAndBrowser();

test('an image uploaded by one person appears in the other\'s tree and previews there; other binaries offer a download', async () => {
  const a = await newUser(e2e.browser, e2e.server.url);
  await signUp(a.page, 'Ada Lovelace', 'ada@example.com');
  await a.page.waitForURL(/\/projects$/);
  await a.page.getByPlaceholder('New project name').fill('Gallery');
  await a.page.getByLabel('Template').selectOption('node');
  await a.page.getByRole('button', { name: 'Create project' }).click();
  await a.page.waitForURL(/\/projects\/[\w-]+$/);
  const projectUrl = a.page.url();
  const b = await newUser(e2e.browser, e2e.server.url);
  await inviteAndJoin(a.page, projectUrl, 'editor', b.page, 'Charles Babbage', 'charles@example.com');
  await b.page.locator('[data-testid=tree-item][data-path="package.json"]').waitFor();

  await a.page.getByTestId('upload-input').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: gradientPng(96, 64) });
  await a.page.getByTestId('notice').filter({ hasText: 'Imported 1 file.' }).waitFor();
  // A font dropped from the desktop onto the tree.
  const font = await a.page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array([0x77, 0x4f, 0x46, 0x32, 0, 1, 0, 0, 0xff, 0xfe, 7, 9])], 'brand.woff2', { type: 'font/woff2' }));
    return dt;
  });
  await a.page.dispatchEvent('[data-testid=tree-drop-zone]', 'drop', { dataTransfer: font });
  await a.page.locator('[data-testid=tree-item][data-path="brand.woff2"]').waitFor();

  const logo = b.page.locator('[data-testid=tree-item][data-path="logo.png"]');
  await logo.waitFor();
  await logo.click();
  const image = b.page.getByTestId('binary-image');
  await image.waitFor();
  await waitFor('the image is decoded', async () => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 96));
  assert.match(await b.page.getByTestId('binary-view').innerText(), /Binary file · \d+(\.\d)? (B|KiB) · 96 × 64 px/);
  assert.equal(await b.page.locator('.monaco-editor:visible').count(), 0, 'no text editor over a binary file');
  assert.equal(await b.page.getByTestId('language').count(), 0, 'the status bar names no text language for a binary file');
  await b.page.setViewportSize({ width: 1440, height: 900 });
  await screenshot(b.page, 'binary-01-image-preview-1440');
  await b.page.setViewportSize({ width: 800, height: 800 });
  await screenshot(b.page, 'binary-02-image-preview-800');

  await b.page.setViewportSize({ width: 1440, height: 900 });
  await b.page.locator('[data-testid=tree-item][data-path="brand.woff2"]').click();
  await b.page.getByText('“brand.woff2” is a binary file (12 B): it cannot be edited here.').waitFor();
  const href = await b.page.getByTestId('binary-download').getAttribute('href');
  const served = await b.page.evaluate(async (url) => {
    const r = await fetch(url!);
    return { status: r.status, type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), bytes: [...new Uint8Array(await r.arrayBuffer())] };
  }, href);
  assert.deepEqual(served, { status: 200, type: 'font/woff2', disposition: "attachment; filename*=UTF-8''brand.woff2", bytes: [0x77, 0x4f, 0x46, 0x32, 0, 1, 0, 0, 0xff, 0xfe, 7, 9] });
  await screenshot(b.page, 'binary-03-download-card-1440');

  // Renamed by Ada: Charles's tab follows and still previews it.
  await b.page.locator('[data-testid=tree-item][data-path="logo.png"]').click();
  await a.page.locator('[data-testid=tree-item][data-path="logo.png"]').hover();
  await a.page.getByRole('button', { name: 'Rename logo.png' }).click();
  await a.page.getByLabel('New path for logo.png').fill('assets/logo.png');
  await a.page.getByLabel('New path for logo.png').press('Enter');
  await b.page.locator('[data-testid=binary-view][data-path="assets/logo.png"]').waitFor();
  await waitFor('the moved image is decoded', async () => b.page.getByTestId('binary-image').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth === 96));
});

/** A real PNG (RGB, 8 bit) with a colour gradient, so the browser must decode it. */
function gradientPng(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) rows.set([Math.round((x / width) * 255), Math.round((y / height) * 255), 180], row + 1 + x * 3);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

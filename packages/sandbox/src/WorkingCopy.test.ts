import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError, MAX_FILE_BYTES } from '@tandem/protocol';
import { DEFAULT_GENERATED_LIMITS, WorkingCopy } from './WorkingCopy.ts';

/** A working copy plus a sibling "data dir" holding a secret, like the server's real layout. */
function setup() {
  const base = mkdtempSync(join(tmpdir(), 'tandem-wc-'));
  const data = join(base, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'secret.txt'), 'TOP-SECRET');
  const wc = new WorkingCopy(join(base, 'root', 'p1'), null);
  mkdirSync(join(base, 'root'));
  return { base, data, wc, work: wc.workDir, done: () => rmSync(base, { recursive: true, force: true }) };
}

test('sync writes documents, skips unchanged ones and removes documents that were deleted', () => {
  const { wc, work, done } = setup();
  try {
    let r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'src/lib/a.js', content: 'x' }]);
    assert.deepEqual(r.written.sort(), ['main.py', 'src/lib/a.js']);
    assert.equal(readFileSync(join(work, 'src/lib/a.js'), 'utf8'), 'x');
    r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'src/lib/a.js', content: 'y' }]);
    assert.deepEqual(r, { written: ['src/lib/a.js'], unchanged: 1, removed: [], movedAside: [], skipped: [] });
    writeFileSync(join(work, 'out.txt'), 'program output');
    r = wc.sync([{ path: 'main.py', content: 'print(2)' }]);
    assert.deepEqual(r.removed, ['src/lib/a.js']);
    assert.ok(!existsSync(join(work, 'src/lib/a.js')));
    assert.ok(existsSync(join(work, 'out.txt')), 'files the program made are not deleted by sync');
  } finally {
    done();
  }
});

test('a file over the per-file limit is left out and reported; the rest syncs; a shrunk file comes back', () => {
  const { wc, work, done } = setup();
  try {
    const big = 'x'.repeat(5 * 1024 * 1024);
    let r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'data/big.txt', content: big }]);
    assert.deepEqual(r.written, ['main.py']);
    assert.deepEqual(r.skipped, [{ path: 'data/big.txt', bytes: big.length }]);
    assert.ok(!existsSync(join(work, 'data/big.txt')));
    r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'data/big.txt', content: 'small now' }]);
    assert.deepEqual([r.written, r.skipped], [['data/big.txt'], []]);
    // Growing past the limit again removes the stale copy: the sandbox never sees an old version.
    r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'data/big.txt', content: 'y'.repeat(MAX_FILE_BYTES + 1) }]);
    assert.deepEqual([r.removed, r.skipped.map((f) => f.path)], [['data/big.txt'], ['data/big.txt']]);
    assert.ok(!existsSync(join(work, 'data/big.txt')));
  } finally {
    done();
  }
});

test('put writes some documents and leaves the rest; a later sync removes a put file that is no longer a document', () => {
  const { wc, work, done } = setup();
  try {
    assert.deepEqual(wc.put([{ path: 'main.py', content: 'print(0)' }]).written, ['main.py'], 'a put makes the working dir when it is not there');
    wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'src/a.js', content: 'x' }]);
    writeFileSync(join(work, 'main.py'), 'edited by the program');
    let r = wc.put([{ path: 'src/a.js', content: 'y' }, { path: 'src/new/b.js', content: 'b' }]);
    assert.deepEqual(r, { written: ['src/a.js', 'src/new/b.js'], unchanged: 0, removed: [], movedAside: [], skipped: [] });
    assert.equal(readFileSync(join(work, 'src/new/b.js'), 'utf8'), 'b');
    assert.equal(readFileSync(join(work, 'main.py'), 'utf8'), 'edited by the program', 'put leaves other files alone');
    r = wc.put([{ path: 'src/a.js', content: 'y' }]);
    assert.equal(r.unchanged, 1);
    wc.put([{ path: 'src/new/b.js', content: 'a longer line\nand another' }]);
    wc.put([{ path: 'src/new/b.js', content: 'short' }]);
    assert.equal(readFileSync(join(work, 'src/new/b.js'), 'utf8'), 'short', 'a shorter text leaves nothing of the longer one');
    wc.put([{ path: 'src/a.js', content: 'z' }], true);
    assert.equal(readFileSync(join(work, 'src/a.js'), 'utf8'), 'z', 'a known path is written too');
    r = wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'src/a.js', content: 'y' }]);
    assert.deepEqual(r.removed, ['src/new/b.js']);
    assert.ok(!existsSync(join(work, 'src/new/b.js')));
  } finally {
    done();
  }
});

test('sync refuses bad paths and file/folder clashes without writing anything', () => {
  const { wc, base, work, done } = setup();
  try {
    for (const files of [
      [{ path: '../escape.txt', content: 'x' }],
      [{ path: 'a/../../escape.txt', content: 'x' }],
      [{ path: '', content: 'x' }],
      [{ path: 'a', content: '1' }, { path: 'a/b', content: '2' }],
      [{ path: 'same', content: '1' }, { path: './same/', content: '2' }],
    ]) {
      assert.throws(() => wc.sync(files), (e) => isAppError(e) && e.code === 'BAD_INPUT', JSON.stringify(files));
    }
    assert.ok(!existsSync(join(base, 'escape.txt')) && !existsSync(join(base, 'root', 'escape.txt')));
    assert.ok(!existsSync(work) || readdirSync(work).length === 0);
  } finally {
    done();
  }
});

test('a symlink the program put where a document goes is replaced, never written through', () => {
  const { wc, work, data, done } = setup();
  try {
    wc.ensure();
    symlinkSync(join(data, 'secret.txt'), join(work, 'main.py'));
    const r = wc.sync([{ path: 'main.py', content: 'print("mine")' }]);
    assert.deepEqual(r.written, ['main.py']);
    assert.equal(readFileSync(join(data, 'secret.txt'), 'utf8'), 'TOP-SECRET');
    assert.ok(lstatSync(join(work, 'main.py')).isFile());
    assert.equal(readFileSync(join(work, 'main.py'), 'utf8'), 'print("mine")');
  } finally {
    done();
  }
});

test('a symlinked folder the program put where a document folder goes is not followed', () => {
  const { wc, work, data, done } = setup();
  try {
    wc.ensure();
    symlinkSync(data, join(work, 'src'));
    const r = wc.sync([{ path: 'src/a.js', content: 'evil?' }, { path: 'src/deep/b.js', content: 'b' }]);
    assert.deepEqual(r.movedAside, [], 'a symlink is just removed');
    assert.deepEqual(readdirSync(data), ['secret.txt']);
    assert.ok(lstatSync(join(work, 'src')).isDirectory());
    assert.equal(readFileSync(join(work, 'src/a.js'), 'utf8'), 'evil?');
    // Removal of a no-longer-present document must not follow a symlink swapped in afterwards.
    rmSync(join(work, 'src'), { recursive: true });
    symlinkSync(data, join(work, 'src'));
    writeFileSync(join(data, 'a.js'), 'host file');
    wc.sync([]);
    assert.equal(readFileSync(join(data, 'a.js'), 'utf8'), 'host file');
  } finally {
    done();
  }
});

test('a FIFO or folder where a document goes is moved aside without hanging', () => {
  const { wc, work, done } = setup();
  try {
    wc.ensure();
    execFileSync('mkfifo', [join(work, 'notes.txt')]);
    mkdirSync(join(work, 'main.py'));
    writeFileSync(join(work, 'main.py', 'keep.txt'), 'program data');
    const r = wc.sync([{ path: 'notes.txt', content: 'n' }, { path: 'main.py', content: 'm' }]);
    assert.deepEqual(r.movedAside.sort(), ['main.py.moved-1', 'notes.txt.moved-1']);
    assert.equal(readFileSync(join(work, 'notes.txt'), 'utf8'), 'n');
    assert.equal(readFileSync(join(work, 'main.py.moved-1', 'keep.txt'), 'utf8'), 'program data');
  } finally {
    done();
  }
});

test('listGenerated returns new text files only: no documents, symlinks, binaries or oversized files', () => {
  const { wc, work, data, done } = setup();
  try {
    wc.sync([{ path: 'main.py', content: 'print(1)' }, { path: 'src/a.js', content: 'a' }]);
    writeFileSync(join(work, 'main.py'), 'modified by the program');
    writeFileSync(join(work, 'out.txt'), 'result: 42\n');
    mkdirSync(join(work, 'build'));
    writeFileSync(join(work, 'build', 'report.md'), '# report');
    writeFileSync(join(work, 'image.bin'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(work, 'huge.txt'), 'x'.repeat(2000));
    symlinkSync(join(data, 'secret.txt'), join(work, 'leak.txt'));
    symlinkSync(data, join(work, 'leakdir'));
    mkdirSync(join(work, 'node_modules'));
    writeFileSync(join(work, 'node_modules', 'dep.js'), 'ignored');
    const r = wc.listGenerated(['main.py', 'src/a.js'], { ...DEFAULT_GENERATED_LIMITS, maxFileBytes: 1000 });
    assert.deepEqual(r.files.map((f) => [f.path, f.content]), [['build/report.md', '# report'], ['out.txt', 'result: 42\n']]);
    assert.deepEqual(r.skipped.sort((a, b) => a.path.localeCompare(b.path)), [
      { path: 'huge.txt', reason: 'too-large' },
      { path: 'image.bin', reason: 'binary' },
    ]);
    assert.ok(!JSON.stringify(r).includes('TOP-SECRET'));
  } finally {
    done();
  }
});

test('binary documents are written byte for byte; with maxBinaryFileBytes, program-made binaries are listed (capped)', () => {
  const { wc, work, done } = setup();
  try {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255, 254, 1]);
    const r = wc.sync([{ path: 'assets/logo.png', content: png }, { path: 'a.txt', content: 'a' }]);
    assert.deepEqual(r.written.sort(), ['a.txt', 'assets/logo.png']);
    assert.deepEqual(new Uint8Array(readFileSync(join(work, 'assets', 'logo.png'))), png);
    assert.equal(wc.sync([{ path: 'assets/logo.png', content: png }, { path: 'a.txt', content: 'a' }]).unchanged, 2);
    writeFileSync(join(work, 'out.png'), Buffer.from([0, 1, 2, 3]));
    writeFileSync(join(work, 'big.bin'), Buffer.alloc(3000));
    const r2 = wc.listGenerated(['assets/logo.png', 'a.txt'], { ...DEFAULT_GENERATED_LIMITS, maxFileBytes: 1000, maxBinaryFileBytes: 2000 });
    assert.deepEqual(r2.binaries.map((f) => [f.path, [...f.data]]), [['out.png', [0, 1, 2, 3]]]);
    assert.deepEqual(r2.skipped, [{ path: 'big.bin', reason: 'too-large' }]);
  } finally {
    done();
  }
});

test('listGenerated stops at its file budget and says so', () => {
  const { wc, work, done } = setup();
  try {
    wc.ensure();
    for (let i = 0; i < 30; i++) writeFileSync(join(work, `f${i}.txt`), String(i));
    const r = wc.listGenerated([], { ...DEFAULT_GENERATED_LIMITS, maxFiles: 10 });
    assert.equal(r.files.length, 10);
    assert.equal(r.skipped.filter((s) => s.reason === 'limit').length, 1);
  } finally {
    done();
  }
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createTestHost, runAndCollect, type TestHost } from './createTestHost.ts';

let t: TestHost;
let server: Server;
let serverHits = 0;
let port = 0;

before(async () => {
  process.env.TANDEM_TEST_SECRET = 'env-secret-value-9f3a';
  process.env.DATABASE_URL = 'postgres://postgres:hunter2@127.0.0.1:5432/tandem';
  t = createTestHost({ limits: { runTimeoutMs: 20_000 } });
  const report = await t.host.checkIsolation();
  assert.equal(report.sandboxed, true, `isolation must be available for these tests: ${report.missing.join('; ')}`);
  writeFileSync(join(t.dataDir, 'secret.txt'), 'DATA-DIR-SECRET', { mode: 0o644 }); // world-readable on purpose
  await t.host.syncWorkingCopy('projA', [{ path: 'main.py', content: 'print("A")' }]);
  await t.host.syncWorkingCopy('projB', [{ path: 'b-secret.txt', content: 'PROJECT-B-SECRET' }]);
  server = createServer((_req, res) => {
    serverHits++;
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.close();
  await t.cleanup();
});

const NET_PROBE = (host: string, p: number) =>
  `node -e "require('net').connect(${p},'${host}').on('connect',()=>{console.log('CONNECTED');process.exit(0)}).on('error',e=>console.log('ERR',e.code))"`;

test('no network: the database port and a host HTTP server on 127.0.0.1 are unreachable', async () => {
  // Control: the same probe on the host reaches the HTTP server, so the probe itself works.
  const control = await promisify(execFile)('node', ['-e', `require('http').get('http://127.0.0.1:${port}',r=>{console.log('STATUS',r.statusCode)})`]);
  assert.match(control.stdout, /STATUS 200/);
  const hitsBefore = serverHits;
  const http = await runAndCollect(t.host, 'projA',
    `node -e "require('http').get('http://127.0.0.1:${port}',r=>console.log('STATUS',r.statusCode)).on('error',e=>console.log('ERR',e.code))"`);
  assert.match(http.output, /ERR ECONNREFUSED/);
  assert.equal(serverHits, hitsBefore);
  const db = await runAndCollect(t.host, 'projA', NET_PROBE('127.0.0.1', 5432));
  assert.match(db.output, /ERR ECONNREFUSED/);
  const outside = await runAndCollect(t.host, 'projA', NET_PROBE('1.1.1.1', 80));
  assert.match(outside.output, /ERR (ENETUNREACH|EHOSTUNREACH)/);
  const ifaces = await runAndCollect(t.host, 'projA', 'cat /proc/net/dev; ls /run/postgresql /var/run/postgresql 2>&1');
  assert.doesNotMatch(ifaces.output, /eth|ens|enp|docker|veth/);
  assert.doesNotMatch(ifaces.output, /\.s\.PGSQL/);
});

test('cannot read outside its project: other project, data dir, /etc/shadow, host paths', async () => {
  const bWork = join(t.rootDir, 'projB', 'disk', 'work');
  const { output } = await runAndCollect(t.host, 'projA', [
    `cat ${bWork}/b-secret.txt`,
    'cat ../projB/work/b-secret.txt /projB/work/b-secret.txt',
    `cat ${join(t.dataDir, 'secret.txt')}`,
    `cat ${t.baseDir}/data/secret.txt`,
    'cat /etc/shadow',
    `ls ${t.rootDir}`,
    'echo FOUND: $(find / -name b-secret.txt -o -name secret.txt 2>/dev/null)',
    'echo ROOT: $(ls /)',
    'echo ME: $(id -u)',
  ].join('; ') + ' 2>&1; true');
  assert.doesNotMatch(output, /PROJECT-B-SECRET|DATA-DIR-SECRET|root:[^:]*:\d+:/);
  assert.match(output, /^FOUND:\s*$/m);
  const root = /ROOT: (.*)/.exec(output)![1]!.split(' ').sort();
  for (const entry of root) assert.ok(['bin', 'dev', 'etc', 'lib', 'lib32', 'lib64', 'libx32', 'proc', 'project', 'sbin', 'tmp', 'usr'].includes(entry), `unexpected /${entry}`);
  assert.match(output, /ME: 65534/);
});

test('no server environment reaches the program (env, /proc/*/environ)', async () => {
  const { output } = await runAndCollect(t.host, 'projA', 'env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"');
  assert.doesNotMatch(output, /env-secret-value|hunter2|DATABASE_URL|TANDEM_TEST_SECRET/);
  assert.match(output, /HOME=\/project/);
});

test('/usr and /etc are read-only; only /project and /tmp are writable', async () => {
  const { output } = await runAndCollect(t.host, 'projA',
    'touch /usr/x 2>&1; touch /etc/x 2>&1; touch /x 2>&1; touch /project/ok && rm /project/ok && echo PROJECT-OK; touch /tmp/ok && echo TMP-OK');
  assert.match(output, /PROJECT-OK/);
  assert.match(output, /TMP-OK/);
  assert.equal((output.match(/Read-only file system|Permission denied/g) ?? []).length, 3, output);
});

test('symlinks and FIFOs made by the program do not let host sync/list escape', async () => {
  const secret = join(t.dataDir, 'secret.txt');
  const { result } = await runAndCollect(t.host, 'projA', [
    `ln -s ${secret} leak.txt`,
    `ln -s ${t.dataDir} leakdir`,
    `rm main.py && ln -s ${secret} main.py`,
    `ln -s ${t.dataDir} src`,
    'ln -s /etc/shadow shadow.txt',
    'ln -s ../../projB/disk/work/b-secret.txt bsecret.txt',
    'mkfifo notes.txt',
    'echo generated > out.txt',
  ].join(' && '));
  assert.equal(result.exitCode, 0);
  const listed = await t.host.listGeneratedFiles('projA', ['main.py', 'src/a.js', 'notes.txt']);
  assert.deepEqual(listed.files.map((f) => f.path), ['out.txt']);
  assert.ok(!JSON.stringify(listed).includes('SECRET'));
  const synced = await t.host.syncWorkingCopy('projA', [
    { path: 'main.py', content: 'print("A2")' }, { path: 'src/a.js', content: 'x' }, { path: 'notes.txt', content: 'n' },
  ]);
  assert.deepEqual(synced.movedAside, ['notes.txt.moved-1']);
  assert.equal(readFileSync(secret, 'utf8'), 'DATA-DIR-SECRET');
  assert.deepEqual(readdirSync(t.dataDir), ['secret.txt']);
  const work = join(t.rootDir, 'projA', 'disk', 'work');
  assert.ok(lstatSync(join(work, 'main.py')).isFile());
  assert.ok(lstatSync(join(work, 'src')).isDirectory());
  // And the program itself, following its own links, still only finds dangling ones.
  const again = await runAndCollect(t.host, 'projA', 'cat leak.txt leakdir/secret.txt shadow.txt bsecret.txt 2>&1; cat main.py');
  assert.doesNotMatch(again.output, /SECRET|root:/);
  assert.match(again.output, /print\("A2"\)/);
});

test('working copy files are owned by the sandbox uid so the program can edit them', async () => {
  const { output, result } = await runAndCollect(t.host, 'projA', 'echo more >> main.py && python3 -c "print(open(\'main.py\').read().strip())"');
  assert.equal(result.exitCode, 0, output);
  assert.match(output, /more/);
});

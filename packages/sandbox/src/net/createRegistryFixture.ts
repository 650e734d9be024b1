import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test-only: a tiny package registry on loopback serving one npm package (`tandem-fixture-pkg`,
 * a real `npm pack` tarball) and one Python wheel (`tandem-fixture`, PEP 503 simple index).
 * URLs inside use `hostName` (resolved to 127.0.0.1 by the test's injected resolver).
 */
export interface RegistryFixture {
  port: number;
  hostName: string;
  npmRegistry: string;
  pipIndex: string;
  /** Request paths served, in order. */
  served: string[];
  tarball: Buffer;
  wheel: Buffer;
  close(): Promise<void>;
}

export async function createRegistryFixture(hostName = 'registry.test'): Promise<RegistryFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-registry-'));
  try {
    const pkgDir = join(dir, 'pkg');
    mkdirSync(pkgDir);
    writeFileSync(join(pkgDir, 'package.json'), JSON.stringify({ name: 'tandem-fixture-pkg', version: '1.0.0', main: 'index.js', license: 'MIT' }));
    writeFileSync(join(pkgDir, 'index.js'), 'module.exports = 6 * 7;\n');
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkgDir, stdio: 'ignore' });
    const tarball = readFileSync(join(dir, 'tandem-fixture-pkg-1.0.0.tgz'));
    const wheelPath = join(dir, 'tandem_fixture-1.0.0-py3-none-any.whl');
    execFileSync('python3', ['-c', WHEEL_SCRIPT, wheelPath]);
    const wheel = readFileSync(wheelPath);
    const served: string[] = [];
    let base = '';
    const server: Server = createServer((req, res) => {
      served.push(req.url ?? '');
      const url = req.url ?? '/';
      if (url === '/tandem-fixture-pkg') {
        const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
        const shasum = createHash('sha1').update(tarball).digest('hex');
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          name: 'tandem-fixture-pkg', 'dist-tags': { latest: '1.0.0' },
          versions: { '1.0.0': { name: 'tandem-fixture-pkg', version: '1.0.0', main: 'index.js', dist: { tarball: `${base}/tandem-fixture-pkg/-/tandem-fixture-pkg-1.0.0.tgz`, integrity, shasum } } },
        }));
      }
      if (url === '/tandem-fixture-pkg/-/tandem-fixture-pkg-1.0.0.tgz') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
      if (url === '/simple/tandem-fixture/') {
        const sha = createHash('sha256').update(wheel).digest('hex');
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body><a href="/files/tandem_fixture-1.0.0-py3-none-any.whl#sha256=${sha}">tandem_fixture-1.0.0-py3-none-any.whl</a></body></html>`);
      }
      if (url === '/files/tandem_fixture-1.0.0-py3-none-any.whl') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(wheel);
      res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    base = `http://${hostName}:${port}`;
    return {
      port, hostName, npmRegistry: `${base}/`, pipIndex: `${base}/simple/`, served, tarball, wheel,
      close: () => new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const WHEEL_SCRIPT = `
import sys, zipfile, hashlib, base64
files = {
  'tandem_fixture/__init__.py': 'VALUE = 6 * 7\\n',
  'tandem_fixture-1.0.0.dist-info/METADATA': 'Metadata-Version: 2.1\\nName: tandem-fixture\\nVersion: 1.0.0\\n',
  'tandem_fixture-1.0.0.dist-info/WHEEL': 'Wheel-Version: 1.0\\nGenerator: tandem-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
record = []
with zipfile.ZipFile(sys.argv[1], 'w') as z:
  for name, text in files.items():
    data = text.encode()
    z.writestr(name, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    record.append(f'{name},sha256={digest},{len(data)}')
  record.append('tandem_fixture-1.0.0.dist-info/RECORD,,')
  z.writestr('tandem_fixture-1.0.0.dist-info/RECORD', '\\n'.join(record) + '\\n')
`;

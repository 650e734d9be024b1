import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestHost, runAndCollect, type TestHost } from '../createTestHost.ts';
import { parseAllowList } from './EgressAllowlist.ts';
import { EgressProxy, type EgressRefusal } from './EgressProxy.ts';
import { SandboxNetwork } from './SandboxNetwork.ts';
import { createRegistryFixture, type RegistryFixture } from './createRegistryFixture.ts';

// Real bubblewrap + cgroups; the fixture registry is on loopback and reachable ONLY through the
// proxy (the sandbox has its own network namespace), via a test-only exception for its exact
// (name, address, port).
describe('egress proxy from inside the real sandbox', () => {
  let t: TestHost;
  let reg: RegistryFixture;
  let proxy: EgressProxy;
  const refusals: EgressRefusal[] = [];
  const SERVER_PORT = 3999;
  let socketDir = '';

  before(async () => {
    reg = await createRegistryFixture();
    const names: Record<string, string> = { [reg.hostName]: '127.0.0.1', 'evil.test': '127.0.0.1', 'meta.test': '169.254.169.254', 'lan.test': '10.1.2.3' };
    proxy = new EgressProxy({
      allow: parseAllowList([`${reg.hostName}:${reg.port}`, 'evil.test', `evil.test:${reg.port}`, 'meta.test', 'lan.test', '127.0.0.1:5432', '127.0.0.1:6379', `127.0.0.1:${SERVER_PORT}`, '169.254.169.254']),
      deniedPorts: [5432, 6379, SERVER_PORT],
      resolve: async (host) => (names[host] ? [{ address: names[host]!, family: 4 }] : Promise.reject(new Error('ENOTFOUND'))),
      testOnlyPrivateEndpoints: [{ host: reg.hostName, address: '127.0.0.1', port: reg.port }],
      onRefused: (r) => {
        refusals.push(r);
        network.notice(r.sessionId, r.message);
      },
    });
    socketDir = mkdtempSync(join(tmpdir(), 'tandem-net-'));
    chmodSync(socketDir, 0o711);
    const network: SandboxNetwork = new SandboxNetwork({
      socketDir,
      proxy,
      registryEnv: { npm_config_registry: reg.npmRegistry, PIP_INDEX_URL: reg.pipIndex, PIP_TRUSTED_HOST: `${reg.hostName}:${reg.port}` },
    });
    t = createTestHost({ limits: { runTimeoutMs: 180_000 }, network });
  });
  after(async () => {
    await t?.cleanup();
    await reg?.close();
    rmSync(socketDir, { recursive: true, force: true });
  });

  it('npm install of a package from the registry succeeds and the package loads', async () => {
    await t.host.syncWorkingCopy('p1', [{ path: 'package.json', content: JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { 'tandem-fixture-pkg': '^1.0.0' } }) }]);
    const t0 = performance.now();
    const { result, output } = await runAndCollect(t.host, 'p1', 'npm install --no-audit --no-fund && node -e "console.log(\'answer\', require(\'tandem-fixture-pkg\'))"');
    console.log(`npm install through the proxy: ${Math.round(performance.now() - t0)} ms`);
    assert.equal(result.exitCode, 0, output);
    assert.match(output, /answer 42/);
    assert.ok(reg.served.includes('/tandem-fixture-pkg/-/tandem-fixture-pkg-1.0.0.tgz'));
  });

  it('pip install into a project virtualenv succeeds', async () => {
    await t.host.syncWorkingCopy('p2', [{ path: 'main.py', content: 'import tandem_fixture\nprint("value", tandem_fixture.VALUE)\n' }]);
    const t0 = performance.now();
    const { result, output } = await runAndCollect(t.host, 'p2', 'python3 -m venv .venv && .venv/bin/pip install --disable-pip-version-check tandem-fixture && .venv/bin/python main.py');
    console.log(`venv + pip install through the proxy: ${Math.round(performance.now() - t0)} ms`);
    assert.equal(result.exitCode, 0, output);
    assert.match(output, /value 42/);
    assert.ok(reg.served.includes('/files/tandem_fixture-1.0.0-py3-none-any.whl'));
  });

  it('refuses other hosts, loopback services, metadata and names resolving to private addresses', async () => {
    const targets: [string, RegExp][] = [
      ['http://not-allowed.example/', /not on this project's allowlist/],
      ['http://127.0.0.1:5432/', /reserved/],
      ['http://127.0.0.1:6379/', /reserved/],
      [`http://127.0.0.1:${SERVER_PORT}/`, /reserved/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://meta.test/', /169\.254\.169\.254/],
      ['http://evil.test/', /resolves to 127\.0\.0\.1/],
      [`http://evil.test:${reg.port}/tandem-fixture-pkg`, /resolves to 127\.0\.0\.1/],
      ['http://lan.test/', /resolves to 10\.1\.2\.3/],
    ];
    const script = targets.map(([u]) => `curl -s --noproxy '' -o /dev/null -w '%{http_code} ${u}\\n' ${u}; curl -s --noproxy '' ${u}`).join('; ');
    const before = reg.served.length;
    const { output } = await runAndCollect(t.host, 'p3', script);
    for (const [u, why] of targets) {
      assert.match(output, new RegExp(`40[03] ${u.replace(/[.?*+/]/g, '\\$&')}`), `${u} should be refused:\n${output}`);
      assert.ok(refusals.some((r) => u.includes(r.host) && why.test(r.message)), `${u}: ${why}`);
    }
    // HTTPS (CONNECT) to a refused host: the tunnel is refused, the message names the host.
    const tls = await runAndCollect(t.host, 'p3', 'curl -sS https://not-allowed.example/ 2>&1; echo exit=$?');
    assert.match(tls.output, /exit=56|CONNECT tunnel failed, response 403/);
    assert.match(tls.output, /Tandem blocked network access to not-allowed\.example:443/, 'the refusal is shown in the output');
    assert.equal(reg.served.length, before, 'evil.test on the registry port did not reach the registry');
  });

  it('caps proxy connections per project: a flood gets 503s while another project still installs', async () => {
    const flood = `const net = require('net'); let refused = 0; const socks = [];
for (let i = 0; i < 80; i++) { const s = net.connect(3128, '127.0.0.1'); socks.push(s); s.on('data', (d) => { if (String(d).includes(' 503 ')) refused++; }); s.on('error', () => {}); }
const giveUp = setTimeout(() => { console.log('no cap, refused=' + refused); process.exit(1); }, 20000);
const t = setInterval(() => { if (refused >= 16) { console.log('held, refused=' + refused); clearInterval(t); clearTimeout(giveUp); setTimeout(() => process.exit(0), 30000); } }, 20);`;
    await t.host.syncWorkingCopy('p5', [{ path: 'flood.js', content: flood }]);
    let out = '';
    let held!: () => void;
    const isHeld = new Promise<void>((r) => (held = r));
    const run = await t.host.run('p5', 'node flood.js', { onOutput: (c) => { out += c.text; if (out.includes('held')) held(); } });
    await Promise.race([isHeld, run.done]); // without the cap the flood never sees 503s and ends on its own
    assert.match(out, /held, refused=1[6-9]/, 'exactly the connections past 64 were refused');
    await t.host.syncWorkingCopy('p6', [{ path: 'package.json', content: JSON.stringify({ name: 'other', version: '1.0.0', dependencies: { 'tandem-fixture-pkg': '1.0.0' } }) }]);
    const other = await runAndCollect(t.host, 'p6', 'npm install --no-audit --no-fund && node -e "console.log(require(\'tandem-fixture-pkg\'))"');
    assert.equal(other.result.exitCode, 0, other.output);
    assert.match(other.output, /^42$/m);
    run.stop();
    await run.done;
  });

  it('has no network except the proxy: direct connections fail', async () => {
    const { output } = await runAndCollect(t.host, 'p4', `curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:${reg.port}/tandem-fixture-pkg 2>&1; echo exit=$?; curl -sS --noproxy '*' --max-time 5 http://93.184.216.34/ 2>&1; echo exit=$?`);
    assert.match(output, /exit=7[\s\S]*exit=7/, output);
  });
});

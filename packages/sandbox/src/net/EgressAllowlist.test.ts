import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allowEntryMatches, parseAllowEntry, parseAllowList, withinCeiling } from './EgressAllowlist.ts';
import { isPublicAddress } from './publicAddress.ts';
import { parsePipConfig } from './registryConfig.ts';

describe('egress allowlist', () => {
  it('parses hosts, wildcards and ports; rejects junk', () => {
    assert.deepEqual(parseAllowEntry('Registry.NPMJS.org'), { host: 'registry.npmjs.org', wildcard: false, port: null });
    assert.deepEqual(parseAllowEntry('*.example.com:8443'), { host: 'example.com', wildcard: true, port: 8443 });
    for (const bad of ['', 'http://x.com', 'a b', '*.com', 'x.com:0', 'x.com:70000', '-a.com', 'x..com', '*']) assert.equal(parseAllowEntry(bad), null, bad);
    assert.throws(() => parseAllowList(['ok.com', 'not ok']), /"not ok" is not a host name/);
  });
  it('matches default web ports only unless a port is given', () => {
    const [e] = parseAllowList(['registry.npmjs.org']);
    assert.ok(allowEntryMatches(e!, 'registry.npmjs.org', 443));
    assert.ok(allowEntryMatches(e!, 'REGISTRY.npmjs.org.', 80));
    assert.ok(!allowEntryMatches(e!, 'registry.npmjs.org', 22));
    assert.ok(!allowEntryMatches(e!, 'evil-registry.npmjs.org', 443));
    const [w] = parseAllowList(['*.pythonhosted.org']);
    assert.ok(allowEntryMatches(w!, 'files.pythonhosted.org', 443));
    assert.ok(!allowEntryMatches(w!, 'pythonhosted.org', 443));
    assert.ok(!allowEntryMatches(w!, 'xpythonhosted.org', 443));
  });
  it('keeps owner entries within the deployment ceiling', () => {
    const ceiling = parseAllowList(['*.example.com', 'cdn.other.org', 'reg.internal.dev:4873']);
    const ok = (s: string) => withinCeiling(parseAllowEntry(s)!, ceiling);
    assert.ok(ok('a.example.com'));
    assert.ok(ok('*.b.example.com'));
    assert.ok(ok('cdn.other.org'));
    assert.ok(ok('reg.internal.dev:4873'));
    assert.ok(!ok('example.com'));
    assert.ok(!ok('*.other.org'));
    assert.ok(!ok('evil.org'));
    assert.ok(!ok('a.example.com:22'));
    assert.ok(!ok('reg.internal.dev'));
  });
});

describe('public address check', () => {
  it('refuses loopback, private, link-local, metadata, mapped and special ranges', () => {
    for (const a of ['127.0.0.1', '127.9.9.9', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '255.255.255.255', '::1', '::', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'fe80::1', 'fd00::1', 'fc12::3', '64:ff9b::a00:1', 'not-an-ip']) {
      assert.equal(isPublicAddress(a), false, a);
    }
    for (const a of ['104.16.1.34', '151.101.0.223', '8.8.8.8', '2606:4700::6810:122']) assert.equal(isPublicAddress(a), true, a);
  });
});

describe('registry discovery', () => {
  it('reads index-url and extra-index-url from pip config list output', () => {
    const r = parsePipConfig(":env:.default-timeout='180'\nglobal.index-url='https://mirror.example/simple'\nglobal.extra-index-url='file:///opt/x https://extra.example/simple'\n");
    assert.equal(r.indexUrl, 'https://mirror.example/simple');
    assert.deepEqual(r.extraIndexUrls, ['file:///opt/x', 'https://extra.example/simple']);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { parseAllowList } from './EgressAllowlist.ts';
import { EgressProxy, type EgressRefusal } from './EgressProxy.ts';

// The proxy's byte budget with real sockets: a data server on loopback (reachable through the
// test-only exception), the proxy fed connections as SandboxNetwork feeds them (one context per
// connection), plain HTTP and CONNECT tunnels.
const KIB = 1024;

describe('egress byte budget', () => {
  let data: HttpServer;
  let dataPort: number;
  const fronts: Server[] = [];
  const refusals: EgressRefusal[] = [];

  before(async () => {
    data = createHttpServer((req, res) => {
      const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0);
      res.writeHead(200, { 'content-length': String(n) });
      // In 16 KiB writes: a cut mid-transfer is seen as one.
      let left = n;
      const more = (): void => {
        while (left > 0) {
          const chunk = randomBytes(Math.min(16 * KIB, left));
          left -= chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    await new Promise<void>((r) => data.listen(0, '127.0.0.1', r));
    dataPort = (data.address() as AddressInfo).port;
  });
  after(async () => {
    for (const f of fronts) f.close();
    data.closeAllConnections();
    await new Promise((r) => data.close(r));
  });

  function proxyWith(budget: { bytesPerMinute: number; bytesPerSession: number }): EgressProxy {
    return new EgressProxy({
      allow: parseAllowList([`data.test:${dataPort}`]),
      deniedPorts: [],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      testOnlyPrivateEndpoints: [{ host: 'data.test', address: '127.0.0.1', port: dataPort }],
      budget,
      onRefused: (r) => refusals.push(r),
    });
  }

  /** A TCP port whose connections reach the proxy as the given project's session. */
  async function front(proxy: EgressProxy, projectId: string, sessionId: string): Promise<number> {
    const server = createServer((socket) => proxy.handle(socket, { projectId, sessionId }));
    fronts.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  /** GET through the proxy (absolute URL): status and bytes received, or 'cut' when the transfer broke. */
  function fetchVia(port: number, bytes: number): Promise<{ status: number; received: number; body: string } | 'cut'> {
    return new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: `http://data.test:${dataPort}/bytes/${bytes}`, agent: false }, (res) => {
        let received = 0;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (chunks.length < 4) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode!, received, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
  }

  /** Through a CONNECT tunnel: bytes received before the tunnel closed. */
  function tunnelVia(port: number, bytes: number): Promise<number> {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => s.write(`CONNECT data.test:${dataPort} HTTP/1.1\r\nHost: data.test:${dataPort}\r\n\r\n`));
      let received = 0;
      let tunnel = false;
      s.on('data', (c: Buffer) => {
        received += c.length;
        if (!tunnel && c.toString('latin1').startsWith('HTTP/1.1 200')) {
          tunnel = true;
          s.write(`GET /bytes/${bytes} HTTP/1.1\r\nHost: data.test\r\nConnection: close\r\n\r\n`);
        }
      });
      s.on('error', () => {});
      s.on('close', () => resolve(received));
    });
  }

  it('a project past its bytes per minute is cut and refused with a message; another project is unaffected', async () => {
    const proxy = proxyWith({ bytesPerMinute: 1024 * KIB, bytesPerSession: 1024 * 1024 * KIB });
    const a = await front(proxy, 'hog', 'hog-s1');
    const b = await front(proxy, 'other', 'other-s1');
    const first = await fetchVia(a, 600 * KIB);
    assert.ok(first !== 'cut' && first.received === 600 * KIB, 'within the budget: the whole body');
    // The second download crosses the minute's budget: cut part-way, and the session is told why.
    const second = await tunnelVia(a, 600 * KIB);
    assert.ok(second < 600 * KIB, `cut mid-transfer (${second} bytes arrived)`);
    const cutNotice = refusals.find((r) => r.projectId === 'hog');
    assert.match(cutNotice?.message ?? '', /moved more than 1 MiB through the proxy in the last minute \(the limit per project\)\. Try again in \d+ s/);
    // A new request is refused with the same words.
    const third = await fetchVia(a, 10 * KIB);
    assert.ok(third !== 'cut');
    assert.equal(third.status, 429);
    assert.match(third.body, /the limit per project/);
    // Meanwhile the other project downloads its full minute's worth.
    for (let i = 0; i < 2; i++) {
      const r = await fetchVia(b, 450 * KIB);
      assert.ok(r !== 'cut' && r.status === 200 && r.received === 450 * KIB, 'the other project is unaffected');
    }
    assert.ok(!refusals.some((r) => r.projectId === 'other'));
  });

  it('a run or terminal past its total is refused; a new session of the same project is not', async () => {
    const proxy = proxyWith({ bytesPerMinute: 1024 * 1024 * KIB, bytesPerSession: 700 * KIB });
    const s1 = await front(proxy, 'p', 's1');
    const ok = await fetchVia(s1, 600 * KIB);
    assert.ok(ok !== 'cut' && ok.received === 600 * KIB);
    const cut = await fetchVia(s1, 600 * KIB);
    assert.ok(cut === 'cut' || cut.received < 600 * KIB, 'the session is cut past its total');
    const refused = await fetchVia(s1, KIB);
    assert.ok(refused !== 'cut' && refused.status === 429);
    assert.match(refused.body, /moved more than 1 MiB through the proxy \(the limit per run or terminal\)\. Start a new one/);
    const s2 = await front(proxy, 'p', 's2');
    const fresh = await fetchVia(s2, 600 * KIB);
    assert.ok(fresh !== 'cut' && fresh.received === 600 * KIB, 'a new session starts with its own total');
  });
});

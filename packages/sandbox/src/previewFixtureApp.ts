import { gzipSync } from 'node:zlib';

/**
 * Test-only (tests and `bench -- sandbox`): a dependency-free Node program for a sandbox that serves HTTP (echoing the path and
 * the Cookie header it received), a WebSocket echo, the project's README.md with a live-reload
 * socket (like a dev server's hot reload), and /probe, a page that tries to use the IDE session.
 * Exported as a shell line that writes and starts it.
 */
export const PREVIEW_APP_SOURCE = String.raw`
const http = require('http'), crypto = require('crypto'), fs = require('fs');
const port = Number(process.argv[2] || 8000);
const live = new Set();
fs.watchFile('/project/README.md', { interval: 150 }, () => {
  for (const sock of live) sock.write(Buffer.concat([Buffer.from([0x81, 6]), Buffer.from('reload')]));
});
const RELOAD = '<script>new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/__live").onmessage = () => location.reload();</script>';
const PROBE = '<!doctype html><title>probe</title><pre id="result">running</pre><script>(async () => {' +
  'const ide = new URLSearchParams(location.search).get("ide"); const out = { cookie: document.cookie };' +
  'try { const r = await fetch(ide + "/api/trpc/auth.me", { credentials: "include" }); out.me = "read: " + (await r.text()); } catch (e) { out.me = "blocked: " + e.message; }' +
  'try { await fetch(ide + "/api/trpc/projects.create", { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: JSON.stringify({ name: "pwned", template: "node" }) }); out.post = "sent"; } catch (e) { out.post = "blocked: " + e.message; }' +
  'document.getElementById("result").textContent = JSON.stringify(out); })();</script>';
const s = http.createServer((q, r) => {
  if (q.url.startsWith('/probe')) {
    r.writeHead(200, { 'content-type': 'text/html' });
    return r.end(PROBE);
  }
  // The request body as the app received it (a POST through the preview).
  if (q.url === '/echo') {
    let body = '';
    q.on('data', (d) => (body += d));
    return q.on('end', () => r.end('body=[' + body + ']'));
  }
  // Which connection the request came on; /drop also closes it just after answering.
  if (q.url === '/conn' || q.url === '/drop') {
    r.end(String(q.socket.remotePort));
    if (q.url === '/drop') setTimeout(() => q.socket.destroy(), 20);
    return;
  }
  if (q.url === '/') {
    let html = '<!doctype html><p>no README.md</p>';
    try { html = '<!doctype html><title>app</title><pre id="readme">' + fs.readFileSync('/project/README.md', 'utf8').replace(/</g, '&lt;') + '</pre>'; } catch {}
    r.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    return r.end(html + RELOAD);
  }
  r.writeHead(200, { 'content-type': 'text/plain' });
  r.end('hello from the sandbox ' + q.url + ' cookie=[' + (q.headers.cookie || '') + '] host=' + q.headers.host);
});
s.on('upgrade', (q, sock) => {
  const k = crypto.createHash('sha1').update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + k + '\r\n\r\n');
  if (q.url === '/__live') {
    live.add(sock);
    sock.on('close', () => live.delete(sock));
  }
  let buf = Buffer.alloc(0);
  sock.on('data', (b) => {
    buf = Buffer.concat([buf, b]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 127, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4), p = Buffer.alloc(len);
      for (let i = 0; i < len; i++) p[i] = buf[off + 4 + i] ^ mask[i % 4];
      const op = buf[0] & 15;
      buf = buf.subarray(off + 4 + len);
      if (op === 8) return sock.end();
      const head = len < 126 ? Buffer.from([0x81, len]) : Buffer.from([0x81, 126, len >> 8, len & 255]);
      sock.write(Buffer.concat([head, p]));
    }
  });
  sock.on('error', () => {});
});
s.listen(port, '127.0.0.1', () => console.log('listening on ' + port));
`;

/**
 * A shell line that writes the app to /tmp and starts it in the background on `port`. Compressed:
 * a terminal line longer than 4096 bytes would be cut by the pty.
 */
export function previewAppCommand(port: number): string {
  return `echo ${gzipSync(PREVIEW_APP_SOURCE).toString('base64')} | base64 -d | gunzip > /tmp/app.js && node /tmp/app.js ${port} &`;
}

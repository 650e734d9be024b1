/**
 * Test-only: a dependency-free Node program for a sandbox that serves HTTP (echoing the path and
 * the Cookie header it received) and a WebSocket echo, as a shell line that writes and starts it.
 */
const SOURCE = String.raw`
const http = require('http'), crypto = require('crypto');
const port = Number(process.argv[2] || 8000);
const s = http.createServer((q, r) => {
  if (q.url === '/page') {
    r.writeHead(200, { 'content-type': 'text/html' });
    return r.end('<!doctype html><title>sandbox app</title><body><h1 id="h">sandbox app</h1></body>');
  }
  r.writeHead(200, { 'content-type': 'text/plain' });
  r.end('hello from the sandbox ' + q.url + ' cookie=[' + (q.headers.cookie || '') + '] host=' + q.headers.host);
});
s.on('upgrade', (q, sock) => {
  const k = crypto.createHash('sha1').update(q.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + k + '\r\n\r\n');
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

/** A shell line that writes the app to /tmp and starts it in the background on `port`. */
export function previewAppCommand(port: number): string {
  return `echo ${Buffer.from(SOURCE).toString('base64')} | base64 -d > /tmp/app.js && node /tmp/app.js ${port} &`;
}

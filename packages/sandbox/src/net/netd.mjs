// Runs INSIDE a sandbox (plain Node, no dependencies), as the parent of the session's program.
// The sandbox's network namespace has only loopback; this helper is its one door:
//  - 127.0.0.1:<port> is the HTTP(S) proxy the environment points at; each connection is carried
//    over the host-owned Unix socket /run/tandem/s.sock to Tandem's egress proxy ("E").
//  - a control connection ("C") answers the host's "open" requests: it dials 127.0.0.1:<port>
//    and carries the bytes over a new connection ("D <id>"). The host never connects into the sandbox's filesystem.
//  - on the control connection it tells the host, unasked, which TCP ports listen here whenever
//    that set changes (id 0, op "ports"): the IDE shows a Preview the moment a dev server starts.
// Nothing here is trusted by the host: it enforces every rule on its side of the socket.
import net from 'node:net';
import fs from 'node:fs';
import { spawn } from 'node:child_process';

const SOCK = '/run/tandem/s.sock';
const sep = process.argv.indexOf('--');
const proxyPort = Number(process.argv[2]);
const command = process.argv.slice(sep + 1);

// Listening sockets are read from /proc/net/tcp{,6}. The kernel walks its whole TCP hash table
// for that (every namespace's, ~5 ms per file on a 262144-bucket table, more under load), so:
//  - it is read asynchronously (libuv's thread pool), never on this loop, which also carries every
//    preview byte: a synchronous read stalled preview traffic for its whole duration;
//  - it is read only when this namespace's count of TCP sockets (/proc/net/sockstat{,6}, a counter,
//    no walk) changed, and at least every FULL_CHECK_MS in case one listener replaced another.
const FULL_CHECK_MS = 5000;

function readText(file) {
  return new Promise((resolve) => fs.readFile(file, 'latin1', (err, text) => resolve(err ? '' : text)));
}

async function socketCounts() {
  const [v4, v6] = await Promise.all([readText('/proc/net/sockstat'), readText('/proc/net/sockstat6')]);
  return `${/^TCP: inuse (\d+)/m.exec(v4)?.[1]}/${/^TCP6: inuse (\d+)/m.exec(v6)?.[1]}`;
}

async function listeningPorts() {
  const ports = new Set();
  for (const text of await Promise.all([readText('/proc/net/tcp'), readText('/proc/net/tcp6')])) {
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // LISTEN
      const port = parseInt(cols[1].split(':')[1], 16);
      if (port && port !== proxyPort) ports.add(port);
    }
  }
  return [...ports].sort((a, b) => a - b);
}

function dial(port, cb) {
  const tryHost = (hosts) => {
    // No Nagle: a preview request's bytes reach the app as they arrive (never held for an ACK).
    const s = net.connect({ host: hosts[0], port, noDelay: true });
    s.once('connect', () => cb(null, s));
    s.once('error', (e) => (hosts.length > 1 ? tryHost(hosts.slice(1)) : cb(e)));
  };
  tryHost(['127.0.0.1', '::1']);
}

function pipeBoth(a, b) {
  a.pipe(b); b.pipe(a);
  const end = () => { a.destroy(); b.destroy(); };
  a.on('error', end); b.on('error', end); a.on('close', end); b.on('close', end);
}

// The client's bytes wait until the host acknowledges ("+"): the host hands the bare socket to
// an HTTP parser that reads from the kernel, so nothing may arrive with the type line.
const proxy = net.createServer((client) => {
  client.pause();
  const up = net.connect(SOCK, () => up.write('E\n'));
  up.once('data', (ack) => {
    if (ack[0] !== 43) return up.destroy();
    if (ack.length > 1) client.write(ack.subarray(1));
    pipeBoth(client, up);
    client.resume();
  });
  up.on('error', () => client.destroy());
  client.on('error', () => up.destroy());
});
proxy.on('error', (e) => process.stderr.write(`[tandem] network helper: ${e.message}\n`));

const PORTS_CHECK_MS = 300;
let attempts = 0;
function control() {
  let last = '';
  let watch;
  let counts = '';
  let fullAt = 0;
  let checking = false;
  const c = net.connect(SOCK, () => {
    c.write('C\n');
    const check = async () => {
      if (checking) return;
      checking = true;
      try {
        const now = Date.now();
        const n = await socketCounts();
        if (n === counts && now - fullAt < FULL_CHECK_MS) return;
        counts = n;
        fullAt = now;
        const ports = await listeningPorts();
        const key = ports.join(',');
        if (key !== last && !c.destroyed) { last = key; c.write(`${JSON.stringify({ id: 0, op: 'ports', ports })}\n`); }
      } finally {
        checking = false;
      }
    };
    void check();
    watch = setInterval(check, PORTS_CHECK_MS);
    watch.unref();
  });
  let buf = '';
  c.setEncoding('utf8');
  c.on('data', (d) => {
    buf += d;
    if (buf.length > 65536) return c.destroy();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let msg;
      try { msg = JSON.parse(line); } catch { continue; }
      const reply = (o) => c.write(`${JSON.stringify({ id: msg.id, ...o })}\n`);
      if (msg.op === 'notice') process.stderr.write(`\r\n\x1b[33m${String(msg.text)}\x1b[0m\r\n`);
      else if (msg.op === 'open') {
        dial(Number(msg.port), (err, target) => {
          if (err) return reply({ error: err.code || 'ECONNREFUSED' });
          const d2 = net.connect(SOCK, () => d2.write(`D ${msg.id}\n`));
          pipeBoth(target, d2);
        });
      }
    }
  });
  c.on('error', () => {});
  c.on('close', () => { clearInterval(watch); if (attempts++ < 50) setTimeout(control, 100).unref(); });
  c.unref();
}

proxy.listen(proxyPort, '127.0.0.1', () => {
  proxy.unref();
  control();
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => { process.stderr.write(`${command[0]}: ${e.message}\n`); process.exit(127); });
  child.on('exit', (code, signal) => {
    if (signal) { process.removeAllListeners(signal); process.kill(process.pid, signal); }
    process.exit(code ?? 1);
  });
});

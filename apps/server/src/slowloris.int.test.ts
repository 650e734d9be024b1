// Item 13 (slowloris): one IP opening thousands of half-sent requests must neither exhaust the
// server's file descriptors nor slow anyone else down. The server runs as its own process; the
// attacker connects from 127.0.0.1, the health probe (another user) from 127.0.0.2.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { TandemNode } from './testing/TandemNode.ts';
import { HealthProbe } from './testing/HealthProbe.ts';
import { waitFor } from './testing/clients.ts';

const PER_IP = 100;
const HEADERS_TIMEOUT_MS = 2000;
const ATTACK_CONNECTIONS = 1500;

let node: TandemNode;

before(async () => {
  node = await TandemNode.start({ TANDEM_MAX_CONNECTIONS_PER_IP: String(PER_IP), TANDEM_HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
});
after(async () => {
  await node?.stop('SIGKILL');
  node?.removeDataDir();
});

interface HalfSent {
  socket: Socket;
  closedAt: number | null;
}

/** Opens a connection and sends the start of a request, then a header line every 300 ms, never the end. */
function halfSentRequest(port: number): Promise<HalfSent> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    const conn: HalfSent = { socket, closedAt: null };
    let drip: NodeJS.Timeout | null = null;
    socket.on('connect', () => {
      socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\n');
      drip = setInterval(() => socket.write(`X-Drip-${Math.random().toString(36).slice(2)}: 1\r\n`), 300);
      resolve(conn);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (drip) clearInterval(drip);
      conn.closedAt ??= Date.now();
      resolve(conn);
    });
  });
}

describe('slowloris', () => {
  test(`${ATTACK_CONNECTIONS} half-sent requests from one IP: capped at ${PER_IP}, timed out after ${HEADERS_TIMEOUT_MS} ms, others unaffected`, async () => {
    const probe = new HealthProbe(node.url).start();
    const started = Date.now();
    const attack: HalfSent[] = [];
    for (let i = 0; i < ATTACK_CONNECTIONS; i += 100) {
      attack.push(...await Promise.all(Array.from({ length: Math.min(100, ATTACK_CONNECTIONS - i) }, () => halfSentRequest(node.port))));
    }
    // Everything over the per-IP cap is dropped at once.
    await waitFor(() => attack.filter((c) => c.closedAt === null).length <= PER_IP, `at most ${PER_IP} connections left open`, 5000);
    const openAfterCap = attack.filter((c) => c.closedAt === null).length;
    // The ones admitted never finish their headers: the server closes them after the headers timeout.
    await waitFor(() => attack.every((c) => c.closedAt !== null), 'every half-sent request closed by the server', HEADERS_TIMEOUT_MS + 8000);
    const lastClosed = Math.max(...attack.map((c) => c.closedAt!));
    const report = await probe.stop('slowloris');
    console.log(`[slowloris] ${ATTACK_CONNECTIONS} opened, ${openAfterCap} admitted, all closed ${lastClosed - started} ms after the attack began`);
    assert.ok(openAfterCap <= PER_IP);
    assert.equal(report.failures, 0, 'every health probe from another IP was answered');

    // The attacker's IP works again once its connections are gone.
    const res = await fetch(`${node.url}/api/health`);
    assert.equal(res.status, 200);
    for (const c of attack) c.socket.destroy();
  });
});

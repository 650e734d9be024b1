import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the TCP connections one client IP may hold open (plain requests, SSE streams and upgraded
 * WebSockets alike): a slowloris client opening thousands of half-sent requests would otherwise
 * exhaust the process's file descriptors and every other user's requests would fail. A connection
 * over the cap is destroyed at once, before anything is read from it.
 */
export class ConnectionLimiter {
  private readonly open = new Map<string, number>();
  refused = 0;

  constructor(private readonly maxPerIp: number) {}

  attach(server: Server): void {
    if (this.maxPerIp <= 0) return;
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  private admit(socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown';
    const count = this.open.get(ip) ?? 0;
    if (count >= this.maxPerIp) {
      this.refused++;
      socket.destroy();
      return;
    }
    this.open.set(ip, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left <= 0) this.open.delete(ip);
      else this.open.set(ip, left);
    });
  }
}

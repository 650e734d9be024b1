/**
 * A tiny TCP load balancer for multi-node tests: each new connection goes to the next backend in
 * turn; a backend that refuses the connection (a dead node) is skipped. No stickiness, like a
 * load balancer without session affinity. Existing connections are spliced byte for byte.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Backend {
  host: string;
  port: number;
}

export class RoundRobinProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private next = 0;
  /** Connections handed to each backend port so far. */
  readonly accepted = new Map<number, number>();

  constructor(private backends: Backend[]) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  setBackends(backends: Backend[]): void {
    this.backends = backends;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private accept(client: Socket): void {
    this.track(client);
    client.pause();
    this.dial(client, 0);
  }

  private dial(client: Socket, attempt: number): void {
    if (attempt >= this.backends.length || client.destroyed) return void client.destroy();
    const backend = this.backends[this.next++ % this.backends.length]!;
    const upstream = connect(backend.port, backend.host);
    this.track(upstream);
    const refused = () => this.dial(client, attempt + 1);
    upstream.once('error', refused);
    upstream.once('connect', () => {
      upstream.off('error', refused);
      this.accepted.set(backend.port, (this.accepted.get(backend.port) ?? 0) + 1);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

import { WebSocket } from 'ws';
import { waitFor } from './waitFor.ts';

/** A bare WebSocket that sends exactly the bytes a test gives it (malformed frames included). */
export class RawClient {
  readonly socket: WebSocket;
  readonly received: Uint8Array[] = [];
  closeCode: number | null = null;
  closeReason = '';

  constructor(url: string, documentName: string, token: string) {
    this.socket = new WebSocket(`${url}/${documentName}?token=${token}`);
    this.socket.binaryType = 'nodebuffer';
    this.socket.on('message', (data: Buffer) => this.received.push(new Uint8Array(data)));
    this.socket.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.socket.on('error', () => {});
  }

  async opened(): Promise<void> {
    await waitFor(() => this.socket.readyState === WebSocket.OPEN || this.closeCode !== null, 'raw socket open');
  }

  /** Waits until the server has answered at least once (so the connection is live). */
  async answered(): Promise<void> {
    await waitFor(() => this.received.length > 0 || this.closeCode !== null, 'raw socket answered');
  }

  send(bytes: Uint8Array | string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(bytes);
  }

  async closed(): Promise<number> {
    await waitFor(() => this.closeCode !== null, 'raw socket closed');
    return this.closeCode!;
  }

  close(): void {
    this.socket.terminate();
  }
}

import { WebSocket } from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { FILE_TEXT } from '@tandem/protocol';
import { waitFor } from './waitFor.ts';

/** A real y-websocket client in Node, with the bookkeeping tests need. */
export class TestClient {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  /** Close codes received from the server, in order. */
  readonly closeCodes: number[] = [];

  constructor(url: string, documentName: string, token: string | null, doc = new Y.Doc()) {
    this.doc = doc;
    this.provider = new WebsocketProvider(url, documentName, doc, {
      params: token ? { token } : {},
      // ws's WebSocket is what Node clients use; the cast bridges its types to the DOM's.
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      // Same-process providers would otherwise sync through BroadcastChannel, bypassing the server.
      disableBc: true,
      maxBackoffTime: 100,
    });
    this.provider.on('connection-close', (event) => {
      if (event) this.closeCodes.push(event.code);
    });
  }

  get text(): Y.Text {
    return this.doc.getText(FILE_TEXT);
  }

  get content(): string {
    return this.text.toString();
  }

  async synced(description = 'client synced'): Promise<void> {
    await waitFor(() => this.provider.synced, description);
  }

  async closedWith(code: number): Promise<void> {
    await waitFor(() => this.closeCodes.includes(code), `close code ${code} (got ${this.closeCodes.join(',') || 'none'})`);
  }

  destroy(): void {
    this.provider.destroy();
    this.doc.destroy();
  }
}

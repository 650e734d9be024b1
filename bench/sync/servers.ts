/** The servers the sync and trace benchmarks compare (started by serverProcess.ts). */
import type { WireProtocol } from './wire.ts';

export const SERVER_KINDS = ['tandem', 'tandem-postgres', 'tandem-filestore', 'y-websocket-server', 'hocuspocus', 'hocuspocus-sqlite'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** What each kind is, for table captions. */
export const SERVER_LABELS: Record<ServerKind, string> = {
  tandem: 'Tandem as shipped (`npm start`: real server process, embedded PGlite store, durable before broadcast)',
  'tandem-postgres': 'Tandem, PostgreSQL configuration (real server process, DATABASE_URL; PostgreSQL CPU not counted)',
  'tandem-filestore': 'DIAGNOSTIC ONLY: SyncServer library + FileDocumentStore (never shipped)',
  'y-websocket-server': '@y/websocket-server 0.1.1 (reference; in memory, no auth, no persistence)',
  hocuspocus: '@hocuspocus/server 4.7 (auth hook, in memory, no persistence)',
  'hocuspocus-sqlite': '@hocuspocus/server 4.7 + @hocuspocus/extension-sqlite (debounced snapshots; up to 10 s of edits can be lost on a crash)',
};

export interface AnnouncedServer {
  syncUrl: string;
  controlUrl: string;
  protocol: WireProtocol;
  /** Document names are `<documentPrefix><id>`. */
  documentPrefix: string;
  /** Session cookies (one per user) for servers that authenticate with cookies; clients use them in turn. */
  cookies: string[] | null;
}

/**
 * A SyncServer in its own process, persisting to a FileDocumentStore in the directory given as
 * the first argument. Prints `{"port":…}` once listening. Used to test what survives `kill -9`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FileDocumentStore } from '../FileDocumentStore.ts';
import { SyncServer } from '../SyncServer.ts';
import { defaultMembership } from './TestServer.ts';

const directory = process.argv[2];
if (!directory) {
  console.error('usage: syncServerProcess.ts <directory>');
  process.exit(2);
}
const sync = new SyncServer({ store: new FileDocumentStore(directory), onAuthenticate: defaultMembership().authenticate });
const http = createServer((_req, res) => res.writeHead(404).end());
http.on('upgrade', (req, socket, head) => sync.handleUpgrade(req, socket, head));
http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (http.address() as AddressInfo).port })}\n`);
});

import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A git smart-HTTP server on loopback for tests: `git http-backend` (the CGI program git ships)
 * behind a node HTTP server, serving the bare repositories under `root`. Fetches are open; pushes
 * need HTTP Basic auth whose password is `token`. Every Authorization header seen is kept.
 */
export class GitHttpServer {
  readonly #server: Server;
  readonly authorizations: string[] = [];
  /** Requests for repositories under this path prefix wait until `release()` (to hold clones mid-flight). */
  #hold: { prefix: string; waiting: number; open: Promise<void> } | null = null;

  constructor(private readonly root: string, private readonly token: string) {
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Holds requests whose path starts with `prefix`; returns how many are waiting and a release. */
  hold(prefix: string): { waiting: () => number; release: () => void } {
    let open = () => {};
    const hold = { prefix, waiting: 0, open: new Promise<void>((resolve) => (open = resolve)) };
    this.#hold = hold;
    return {
      waiting: () => hold.waiting,
      release: () => {
        this.#hold = null;
        open();
      },
    };
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const hold = this.#hold;
    if (hold && (req.url ?? '').startsWith(hold.prefix)) {
      hold.waiting++;
      void hold.open.then(() => this.#handle(req, res));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.headers.authorization) this.authorizations.push(req.headers.authorization);
    const pushing = url.searchParams.get('service') === 'git-receive-pack' || url.pathname.endsWith('/git-receive-pack');
    let user = '';
    if (pushing) {
      const [scheme, value] = (req.headers.authorization ?? '').split(' ');
      const [name, password] = scheme === 'Basic' && value ? Buffer.from(value, 'base64').toString().split(':') : [];
      if (password !== this.token) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
        return;
      }
      user = name ?? 'git';
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH, GIT_PROJECT_ROOT: this.root, GIT_HTTP_EXPORT_ALL: '1', REQUEST_METHOD: req.method, PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1), CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_USER: user, REMOTE_ADDR: '127.0.0.1',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      } as unknown as NodeJS.ProcessEnv,
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const [name, value] = [line.slice(0, i).trim(), line.slice(i + 1).trim()];
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => (headersDone ? res.end() : res.writeHead(500).end()));
  }
}

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { isAppError } from '@tandem/protocol';
import type { ProjectHome, ProjectHomes } from './ProjectHomes.ts';

/** tRPC procedures whose state lives on the project's home node (ProjectHomes). */
const PROJECT_BOUND = ['suggestions.', 'sandbox.', 'agent.'];
const FORWARDED_HEADER = 'x-tandem-forwarded';
/** Hop-by-hop headers are not forwarded (RFC 9110 §7.6.1); the length is set anew. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'content-length', 'host']);

export interface ProjectCallRouterOptions {
  homes: ProjectHomes;
  nodeId: string;
  /** Shared by every node (TANDEM_SECRET): signs forwarded calls so clients cannot pose as a node. */
  secret: string;
  maxBodyBytes: number;
}

type LocalHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Sends each tRPC call about a project's shared AI edits or sandboxes to the project's home node:
 * handled here when this node is the home, otherwise forwarded over HTTP as it came (cookies and
 * all: the home authenticates and authorizes it again) and the answer relayed back. Everything
 * else runs on the node that received it. So a load balancer may send any request anywhere.
 */
export class ProjectCallRouter {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly options: ProjectCallRouterOptions) {}

  async handle(req: IncomingMessage, res: ServerResponse, local: LocalHandler): Promise<void> {
    const procedures = proceduresOf(req.url ?? '');
    if (!procedures.some(isProjectBound)) return local(req, res);
    if (this.isForwardedByNode(req)) return local(req, res);
    let body: string | undefined;
    if (req.method === 'POST') {
      body = await readBody(req, this.options.maxBodyBytes).catch(() => undefined);
      if (body === undefined) return sendError(res, 413, 'PAYLOAD_TOO_LARGE', 'The request is too large.');
      // tRPC's Node adapter reads a body that was already consumed from `req.body`.
      (req as IncomingMessage & { body?: string }).body = body;
    }
    const projectId = projectOfCall(req.url ?? '', body, procedures);
    if (!projectId) return local(req, res);
    for (let attempt = 0; ; attempt++) {
      let home: ProjectHome;
      try {
        home = await this.options.homes.homeOf(projectId);
      } catch (error) {
        return sendError(res, 503, 'SERVICE_UNAVAILABLE', isAppError(error) ? error.message : 'No server is available for this project; try again.');
      }
      if (home.local) return local(req, res);
      const outcome = await this.forward(home, req, res, body);
      if (outcome === 'done') return;
      // The home did not accept the connection: it is gone. Take its lease away and retry once.
      await this.options.homes.evict(projectId, home).catch(() => {});
      if (attempt > 0) return sendError(res, 503, 'SERVICE_UNAVAILABLE', 'The server for this project is not reachable; try again.');
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private forward(home: ProjectHome, req: IncomingMessage, res: ServerResponse, body: string | undefined): Promise<'done' | 'unreachable'> {
    const target = new URL(req.url ?? '/', home.url);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== FORWARDED_HEADER) headers[name] = value;
    }
    headers[FORWARDED_HEADER] = this.signature(req.method ?? 'GET', req.url ?? '/');
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise((resolve) => {
      const upstream = httpRequest(target, { method: req.method, headers, agent: this.agent }, (answer) => {
        const relayed: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) relayed[name] = value;
        }
        res.writeHead(answer.statusCode ?? 502, relayed);
        answer.pipe(res);
        answer.on('end', () => resolve('done'));
        answer.on('error', () => {
          res.destroy();
          resolve('done');
        });
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        if (!res.headersSent && (error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'ECONNRESET')) {
          resolve('unreachable');
          return;
        }
        if (!res.headersSent) sendError(res, 502, 'SERVICE_UNAVAILABLE', 'The server for this project did not answer; try again.');
        else res.destroy();
        resolve('done');
      });
      req.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
      upstream.end(body);
    });
  }

  private signature(method: string, url: string): string {
    const { nodeId, secret } = this.options;
    return `${nodeId}.${createHmac('sha256', secret).update(`${nodeId}\n${method}\n${url}`).digest('base64url')}`;
  }

  private isForwardedByNode(req: IncomingMessage): boolean {
    const header = req.headers[FORWARDED_HEADER];
    if (typeof header !== 'string') return false;
    const node = header.slice(0, header.lastIndexOf('.'));
    const expected = Buffer.from(createHmac('sha256', this.options.secret).update(`${node}\n${req.method ?? 'GET'}\n${req.url ?? '/'}`).digest('base64url'));
    const given = Buffer.from(header.slice(header.lastIndexOf('.') + 1));
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

function isProjectBound(procedure: string): boolean {
  return PROJECT_BOUND.some((prefix) => procedure.startsWith(prefix));
}

/** `/api/trpc/a.b,c.d?batch=1` → ['a.b', 'c.d']. */
export function proceduresOf(url: string): string[] {
  const path = url.split('?')[0] ?? '';
  const last = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(last).split(',').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The project every project-bound procedure of the call names (`input.projectId`), or null if
 * there is none or they disagree (then the call runs where it is; tRPC validates it there).
 */
export function projectOfCall(url: string, body: string | undefined, procedures: string[]): string | null {
  const query = new URLSearchParams(url.split('?')[1] ?? '');
  const raw = body ?? query.get('input');
  if (!raw) return null;
  let input: unknown;
  try {
    input = JSON.parse(raw);
  } catch {
    return null;
  }
  const batched = query.get('batch') === '1';
  const projects = new Set<string>();
  procedures.forEach((procedure, index) => {
    if (!isProjectBound(procedure)) return;
    const callInput = batched ? (input as Record<string, unknown> | null)?.[String(index)] : input;
    const projectId = (callInput as { projectId?: unknown } | null | undefined)?.projectId;
    projects.add(typeof projectId === 'string' ? projectId : '');
  });
  return projects.size === 1 && !projects.has('') ? [...projects][0]! : null;
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message, code: -32000, data: { code, httpStatus: status } } }));
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { hasScope, type AuthService } from '@tandem/auth';
import type { ProjectBlobs } from '@tandem/api';
import { AppError, isAppError, type AppErrorCode } from '@tandem/protocol';

/**
 * GET /api/projects/<id>/files/<fileId>[?download=1]: a binary file's bytes, for members (the
 * rule is ProjectBlobs.download; this only adapts HTTP). Uploaded bytes are hostile: they are
 * served with `nosniff`, a CSP that sandboxes them and allows no script, and as an attachment
 * unless they are a raster image (an `<img>` ignores Content-Disposition, so SVG previews work
 * while opening one directly downloads it instead of rendering it on our origin).
 */
const ROUTE = /^\/api\/projects\/([A-Za-z0-9_-]{1,64})\/files\/([A-Za-z0-9_-]{1,64})(?:\?(.*))?$/;
const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/x-icon', 'image/bmp']);
const STATUS: Partial<Record<AppErrorCode, number>> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_INPUT: 400 };

export function isBinaryFilePath(url: string): boolean {
  return ROUTE.test(url);
}

export async function handleBinaryFileRequest(deps: { auth: AuthService; blobs: ProjectBlobs }, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const [, projectId, fileId, query] = ROUTE.exec(req.url ?? '') ?? [];
    if (!projectId || !fileId) throw new AppError('NOT_FOUND', 'Not found.');
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new AppError('BAD_INPUT', 'Use GET to download a file.');
    const caller = await deps.auth.authenticateCaller({ cookie: req.headers.cookie, authorization: req.headers.authorization });
    if (!caller) throw new AppError('UNAUTHENTICATED', 'Sign in to access this project.');
    if (!hasScope(caller.credential, 'api')) throw new AppError('FORBIDDEN', 'This access token lacks the scope for this.');
    const file = await deps.blobs.download(caller.user, projectId, fileId);
    const etag = `"${file.sha256}"`;
    const name = encodeURIComponent(file.path.split('/').pop()!);
    const inline = INLINE_TYPES.has(file.contentType) && new URLSearchParams(query ?? '').get('download') === null;
    const fresh = req.headers['if-none-match'] === etag;
    res.writeHead(fresh ? 304 : 200, {
      ...(fresh ? {} : { 'content-length': file.bytes.length }),
      'content-type': file.contentType,
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${name}`,
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; sandbox",
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'private, no-cache',
      etag,
    });
    if (req.method === 'HEAD' || fresh) return void res.end();
    res.end(file.bytes);
  } catch (error) {
    const appError = isAppError(error) ? error : new AppError('INTERNAL', 'Something went wrong.', String(error));
    if (appError.code === 'INTERNAL') console.error('binary file request failed:', appError.detail ?? appError);
    if (res.headersSent) return void res.destroy();
    res.writeHead(STATUS[appError.code] ?? 500, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify({ error: { code: appError.code, message: appError.message } }));
  }
}

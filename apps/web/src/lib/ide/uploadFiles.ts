import { useState } from 'react';

/** What the server reports for an upload (apps/server projectArchive.ts). */
export interface UploadResult {
  imported: { path: string; created: boolean }[];
  skipped: { path: string; reason: string }[];
}

/**
 * Sends files to the project: a single .zip is unpacked by the server; other files keep their
 * relative path (a folder picked with webkitdirectory keeps its structure).
 */
export async function uploadFiles(projectId: string, files: File[], dir = ''): Promise<UploadResult> {
  const url = `/api/projects/${encodeURIComponent(projectId)}/upload${dir ? `?dir=${encodeURIComponent(dir)}` : ''}`;
  const single = files.length === 1 ? files[0]! : null;
  let response: Response;
  if (single && /\.zip$/i.test(single.name)) {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/zip' }, body: single });
  } else {
    const form = new FormData();
    for (const file of files) form.append('files', file, file.webkitRelativePath || file.name);
    response = await fetch(url, { method: 'POST', body: form });
  }
  const body = (await response.json().catch(() => null)) as (UploadResult & { error?: { message: string } }) | null;
  if (!response.ok || !body) throw new Error(body?.error?.message ?? `Upload failed (HTTP ${response.status}).`);
  return body;
}

export function describeUpload(result: UploadResult): string {
  const parts = [`Imported ${result.imported.length} file${result.imported.length === 1 ? '' : 's'}.`];
  if (result.skipped.length > 0) {
    parts.push(`Skipped ${result.skipped.length}: ${result.skipped.map((s) => `${s.path} (${s.reason})`).join('; ')}`);
  }
  return parts.join(' ');
}

type UploadNotice = { kind: 'info' | 'warn' | 'error'; text: string };

/** Uploading from the IDE: busy while it runs, then a notice saying what was imported or skipped. */
export function useUpload(projectId: string, notify: (notice: UploadNotice) => void): { uploading: boolean; upload(files: File[], dir?: string): Promise<void> } {
  const [uploading, setUploading] = useState(false);
  const upload = async (files: File[], dir = '') => {
    setUploading(true);
    try {
      const result = await uploadFiles(projectId, files, dir);
      notify({ kind: result.skipped.length > 0 ? 'warn' : 'info', text: describeUpload(result) });
    } catch (e) {
      notify({ kind: 'error', text: (e as Error).message });
    } finally {
      setUploading(false);
    }
  };
  return { uploading, upload };
}

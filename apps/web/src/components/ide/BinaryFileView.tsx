'use client';
import { useState } from 'react';
import { isImagePath, type TreeEntry } from '@tandem/protocol';
import { DownloadIcon } from './Icons';
import './binaryFile.css';

/**
 * A binary file's tab: images (png, jpg, gif, webp, svg…) previewed as an `<img>` (an SVG's
 * script never runs there, and the server serves it as a sandboxed attachment), anything else
 * named with its size and a download link. The URL carries the hash, so a re-upload shows at once.
 */
export function BinaryFileView({ projectId, fileId, entry }: { projectId: string; fileId: string; entry: TreeEntry }) {
  const [failed, setFailed] = useState(false);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const url = `/api/projects/${encodeURIComponent(projectId)}/files/${encodeURIComponent(fileId)}`;
  const name = entry.path.split('/').pop()!;
  const image = isImagePath(entry.path) && !failed;
  return (
    <div className="binary-view" data-testid="binary-view" data-path={entry.path}>
      <div className="binary-bar">
        <span className="binary-name" title={entry.path}>{entry.path}</span>
        <span className="muted small">
          Binary file · {formatBytes(entry.size ?? 0)}{size ? ` · ${size.w} × ${size.h} px` : ''}
        </span>
        <span className="spacer" />
        <a className="small-button" href={`${url}?download=1`} download={name} data-testid="binary-download">
          <DownloadIcon size={13} /> Download
        </a>
      </div>
      {image ? (
        <div className="binary-image">
          <img
            src={`${url}?v=${entry.sha256 ?? ''}`}
            alt={name}
            data-testid="binary-image"
            onLoad={(e) => setSize({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })}
            onError={() => setFailed(true)}
          />
        </div>
      ) : (
        <div className="binary-other">
          <p>“{name}” is a binary file ({formatBytes(entry.size ?? 0)}): it cannot be edited here.</p>
          <p className="muted small">Runs and terminals see it in the project folder; rename, move or delete it in the file tree.</p>
        </div>
      )}
    </div>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

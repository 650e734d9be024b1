'use client';
import { useCallback, useEffect, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';
import type { PreviewTarget } from './usePreviews';

export interface PreviewPaneProps {
  projectId: string;
  previews: PreviewTarget[];
  canShare: boolean;
  active: boolean;
}

/**
 * The running app, from its own origin (README → Sandbox network and preview): an iframe that
 * signs in at the preview origin with a one-minute ticket, "open in new tab", and (editors) a
 * share link for people outside the project.
 */
export function PreviewPane({ projectId, previews, canShare, active }: PreviewPaneProps) {
  const [port, setPort] = useState<number | null>(previews[0]?.port ?? null);
  const [src, setSrc] = useState<string | null>(null);
  const [share, setShare] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const target = previews.find((p) => p.port === port) ?? previews[0] ?? null;

  useEffect(() => {
    if (port === null || !previews.some((p) => p.port === port)) setPort(previews[0]?.port ?? null);
  }, [previews, port]);

  const load = useCallback(async () => {
    if (!target) return;
    setError(null);
    try {
      setSrc((await trpc.network.previewTicket.mutate({ projectId, port: target.port })).url);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [projectId, target?.port]);

  // Load when the tab is first shown for a port; keep the app running while other tabs are shown.
  useEffect(() => {
    if (active && target && !src?.startsWith(target.url)) void load();
  }, [active, target, src, load]);

  const openInTab = async () => {
    if (!target) return;
    // Opened before the request so the popup is not blocked; the app gets no handle on the IDE.
    const w = window.open('about:blank', '_blank');
    if (w) w.opener = null;
    try {
      const { url } = await trpc.network.previewTicket.mutate({ projectId, port: target.port });
      if (w) w.location.href = url;
    } catch (e) {
      w?.close();
      setError(errorMessage(e));
    }
  };

  const makeShareLink = async () => {
    if (!target) return;
    try {
      setShare((await trpc.network.shareLink.mutate({ projectId, port: target.port, hours: 24 })).url);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  if (!target) {
    return <div className="sbx-preview-empty muted">Nothing is listening yet. Start a server in a terminal (e.g. <code>npm run dev</code> or <code>python3 -m http.server 8000</code>) and it appears here.</div>;
  }
  return (
    <div className="sbx-preview" data-testid="preview-pane">
      <div className="sbx-preview-bar">
        {previews.length > 1 ? (
          <select aria-label="Port" value={target.port} onChange={(e) => { setPort(Number(e.target.value)); setSrc(null); }}>
            {previews.map((p) => <option key={p.port} value={p.port}>:{p.port}</option>)}
          </select>
        ) : <span className="sbx-pill">:{target.port}</span>}
        <span className="sbx-preview-url" title={target.url} data-testid="preview-url">{target.url}</span>
        <button className="small" onClick={() => void load()} title="Reload the app">Reload</button>
        <button className="small" onClick={() => void openInTab()} data-testid="preview-open-tab">Open in new tab</button>
        {canShare && <button className="small" onClick={() => void makeShareLink()} title="A link for people outside the project, valid 24 hours">Share link</button>}
      </div>
      {share && (
        <div className="sbx-preview-share">
          <span className="muted small">Anyone with this link can open the app for 24 hours:</span>
          <input readOnly value={share} onFocus={(e) => e.target.select()} aria-label="Share link" />
          <button className="link small" onClick={() => setShare(null)}>Hide</button>
        </div>
      )}
      {error && <div className="error small" role="alert">{error}</div>}
      {src && (
        <iframe
          key={src} src={src} title={`Preview of port ${target.port}`} className="sbx-preview-frame" data-testid="preview-frame"
          sandbox="allow-scripts allow-same-origin allow-forms allow-popups allow-modals allow-downloads"
        />
      )}
    </div>
  );
}

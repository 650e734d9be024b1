'use client';
import { useEffect, useState } from 'react';
import Link from 'next/link';
import type { ConnectionState, SessionEnd } from '@/lib/ide/ProjectSession';

export type Notice = { kind: 'info' | 'warn' | 'error'; text: string } | null;

export interface IdeBannersProps {
  projectId: string;
  connection: ConnectionState;
  ended: SessionEnd | null;
  notice: Notice;
  onDismiss(): void;
}

/** The banners under the top bar: the session ended, the connection is in trouble, a notice. */
export function IdeBanners({ projectId, connection, ended, notice, onDismiss }: IdeBannersProps) {
  // Brief drops (a server restart, a role change) reconnect within a second: no banner for those.
  const connectionTrouble = useSettledFlag(connection === 'offline' || connection === 'reconnecting', 1500);
  return (
    <>
      {ended && (
        <div className="ide-banner error" role="alert" data-testid="session-ended">
          <span>{ended.message}</span>
          <span className="spacer" />
          {ended.code === 4401 ? <Link href={`/signin?next=/projects/${projectId}`}>Sign in</Link> : <Link href="/projects">Back to projects</Link>}
        </div>
      )}
      {!ended && connectionTrouble && (
        <div className="ide-banner warn" role="status" data-testid="offline-banner">
          {connection === 'offline'
            ? 'You are offline. Keep working: your edits are kept in this tab and merge when the connection returns.'
            : 'Connection lost — reconnecting… Your edits are kept and will sync.'}
        </div>
      )}
      {notice && (
        <div className={`ide-banner ${notice.kind}`} role="status" data-testid="notice">
          <span>{notice.text}</span>
          <span className="spacer" />
          <button className="link small" onClick={onDismiss}>Dismiss</button>
        </div>
      )}
    </>
  );
}

/** `flag`, but turning true only once it has stayed true for `delayMs`. */
function useSettledFlag(flag: boolean, delayMs: number): boolean {
  const [settled, setSettled] = useState(false);
  useEffect(() => {
    if (!flag) return setSettled(false);
    const timer = setTimeout(() => setSettled(true), delayMs);
    return () => clearTimeout(timer);
  }, [flag, delayMs]);
  return settled && flag;
}

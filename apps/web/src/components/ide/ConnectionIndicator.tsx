'use client';
import type { ConnectionState } from '@/lib/ide/ProjectSession';

export const CONNECTION_LABELS: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  ended: 'Disconnected',
};

const HINTS: Record<ConnectionState, string> = {
  connecting: 'Loading the project from the server.',
  connected: 'Live: your changes reach everyone at once.',
  reconnecting: 'Connection lost. Keep typing: your edits are kept and sync when it is back.',
  offline: 'You are offline. Your edits are kept in this tab and merge when the connection returns.',
  ended: 'The server closed the connection.',
};

export function ConnectionIndicator({ state }: { state: ConnectionState }) {
  return (
    <span className={`conn ${state}`} data-testid="connection" data-state={state} title={HINTS[state]}>
      <span className="dot" />
      {CONNECTION_LABELS[state]}
    </span>
  );
}

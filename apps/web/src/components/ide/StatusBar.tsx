'use client';
import { useCursor, type CursorStore } from '@/lib/ide/cursorStore';
import type { ConnectionState } from '@/lib/ide/ProjectSession';
import { CONNECTION_LABELS } from './ConnectionIndicator';

export interface StatusBarProps {
  connection: ConnectionState;
  path: string | null;
  language: string | null;
  cursor: CursorStore | null;
  readOnly: boolean;
  /** Panel toggles, shown first. */
  toggles?: React.ReactNode;
  /** Feature indicators (e.g. inline-completion status), shown after the file path. */
  children?: React.ReactNode;
}

export function StatusBar({ connection, path, language, cursor, readOnly, toggles, children }: StatusBarProps) {
  return (
    <footer className="statusbar" data-testid="status-bar">
      {toggles}
      <span className={`status-conn ${connection}`}><span className="dot" />{CONNECTION_LABELS[connection]}</span>
      {path && <span className="muted">{path}</span>}
      {children}
      <span className="spacer" />
      {readOnly && <span className="status-readonly" data-testid="read-only">Read-only</span>}
      {cursor && <CursorStatus store={cursor} />}
      {language && <span data-testid="language">{language}</span>}
      <span className="status-wide">Spaces: 2</span>
      <span className="status-wide">UTF-8</span>
    </footer>
  );
}

function CursorStatus({ store }: { store: CursorStore }) {
  const cursor = useCursor(store);
  return cursor && <span>Ln {cursor.line}, Col {cursor.column}{cursor.selected > 0 ? ` (${cursor.selected} selected)` : ''}</span>;
}

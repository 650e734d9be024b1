'use client';

export type RightPanel = 'review' | 'agent';

export interface StatusTogglesProps {
  hasRole: boolean;
  sidebarOpen: boolean;
  onToggleSidebar(): void;
  checkpointsOpen: boolean;
  onOpenCheckpoints(): void;
  /** The right column's panel, or null when the column is closed. */
  rightShown: RightPanel | null;
  onShowRight(panel: RightPanel): void;
  openSuggestions: number;
}

/** The status bar's panel toggles (they stay reachable when panels collapse on narrow windows). */
export function StatusToggles({ hasRole, sidebarOpen, onToggleSidebar, checkpointsOpen, onOpenCheckpoints, rightShown, onShowRight, openSuggestions }: StatusTogglesProps) {
  return (
    <>
      <button className={`status-toggle${sidebarOpen ? ' on' : ''}`} onClick={onToggleSidebar} title="Show or hide the file tree (Ctrl+B)" data-testid="toggle-sidebar">Files</button>
      {hasRole && (
        <button className={`status-toggle${checkpointsOpen ? ' on' : ''}`} onClick={onOpenCheckpoints} title="Checkpoints: restore the project or a file, download as git" data-testid="open-checkpoints">
          Checkpoints
        </button>
      )}
      {hasRole && (
        <button className={`status-toggle${rightShown === 'agent' ? ' on' : ''}`} onClick={() => onShowRight('agent')} title="Show or hide the Agent panel" data-testid="toggle-agent">
          Agent
        </button>
      )}
      {hasRole && (
        <button className={`status-toggle${rightShown === 'review' ? ' on' : ''}`} onClick={() => onShowRight('review')} title="Show or hide the AI edits panel" data-testid="toggle-review">
          AI edits{openSuggestions > 0 ? ` (${openSuggestions})` : ''}
        </button>
      )}
    </>
  );
}

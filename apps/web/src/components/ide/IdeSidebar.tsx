'use client';
import type { ReactNode } from 'react';

export type SidebarView = 'files' | 'search' | 'comments';

const VIEWS: { id: SidebarView; label: string; title: string }[] = [
  { id: 'files', label: 'Files', title: 'Files (Ctrl+B)' },
  { id: 'search', label: 'Search', title: 'Search (Ctrl+Shift+F)' },
  { id: 'comments', label: 'Comments', title: 'Comment threads (Ctrl+Alt+M adds one)' },
];

export interface IdeSidebarProps {
  view: SidebarView;
  onView(view: SidebarView): void;
  /** What each view shows (only the current one is rendered). */
  views: Record<SidebarView, () => ReactNode>;
  /** Count shown beside a view's name (e.g. open comment threads). */
  badges?: Partial<Record<SidebarView, number>>;
  /** Below the view: the people in the project. */
  footer: ReactNode;
}

/** The left side bar: files, project search or comments (as VS Code's views), then people. */
export function IdeSidebar({ view, onView, views, badges, footer }: IdeSidebarProps) {
  return (
    <>
      <div className="sidebar-views" role="tablist" aria-label="Side bar">
        {VIEWS.map((v) => (
          <button key={v.id} role="tab" aria-selected={view === v.id} className={`sidebar-view${view === v.id ? ' on' : ''}`} onClick={() => onView(v.id)} title={v.title} data-testid={`sidebar-${v.id}`}>
            {v.label}{badges?.[v.id] ? <span className="count">{badges[v.id]}</span> : null}
          </button>
        ))}
      </div>
      {views[view]()}
      {footer}
    </>
  );
}

'use client';
import type { ReactNode } from 'react';
import { FileTree, type FileTreeProps } from './FileTree';
import { SearchPanel } from './SearchPanel';

export type SidebarView = 'files' | 'search';

export interface IdeSidebarProps {
  view: SidebarView;
  onView(view: SidebarView): void;
  projectId: string;
  tree: FileTreeProps;
  canReplace: boolean;
  searchFocus: number;
  /** Below the view: the people in the project. */
  footer: ReactNode;
}

/** The left side bar: the file tree or project search (as VS Code's Explorer / Search), then people. */
export function IdeSidebar({ view, onView, projectId, tree, canReplace, searchFocus, footer }: IdeSidebarProps) {
  return (
    <>
      <div className="sidebar-views" role="tablist" aria-label="Side bar">
        <button role="tab" aria-selected={view === 'files'} className={`sidebar-view${view === 'files' ? ' on' : ''}`} onClick={() => onView('files')} title="Files (Ctrl+B)">Files</button>
        <button role="tab" aria-selected={view === 'search'} className={`sidebar-view${view === 'search' ? ' on' : ''}`} onClick={() => onView('search')} title="Search (Ctrl+Shift+F)" data-testid="sidebar-search">Search</button>
      </div>
      {view === 'files' ? <FileTree {...tree} /> : <SearchPanel projectId={projectId} canReplace={canReplace} focusSignal={searchFocus} />}
      {footer}
    </>
  );
}

'use client';
import type { TreeEdit, TreeEntries } from '@/lib/ide/fileTree';
import type { Participant } from '@/lib/ide/presence';
import { FileNavigationContext, type FileNavigation } from '@/lib/ide/FileNavigation';
import { dragResize } from '@/lib/ide/dragResize';
import type { useSidebarViews } from '@/lib/ide/useSidebarViews';
import { CommentsPanel } from '@/components/comments/CommentsPanel';
import { IdeSidebar } from './IdeSidebar';
import { FileTree } from './FileTree';
import { SearchPanel } from './SearchPanel';
import { ParticipantsList } from './ParticipantsList';

export interface WorkspaceSidebarProps {
  projectId: string;
  sidebar: ReturnType<typeof useSidebarViews>;
  width: number;
  onResize(width: number): void;
  navigation: FileNavigation;
  entries: TreeEntries;
  treeLoaded: boolean;
  readOnly: boolean;
  activeFile: string | null;
  presence: Map<string, Participant[]>;
  participants: Participant[];
  following: number | null;
  meId: string | null;
  onOpen(fileId: string): void;
  onApply(edit: TreeEdit): void;
  /** Files dropped from the desktop on the tree or a folder. */
  onUpload(files: File[], dir: string): void;
  onFollow(sessionId: number): void;
  onStopFollowing(): void;
}

/** The left column: file tree, project search and comment threads, with the people below. */
export function WorkspaceSidebar(props: WorkspaceSidebarProps) {
  const { projectId, sidebar, entries, treeLoaded, readOnly, onOpen } = props;
  return (
    <aside className="ide-sidebar" data-testid="sidebar">
      <div className="ide-sidebar-resize" onPointerDown={(e) => dragResize(e, 'x', props.width, props.onResize)} role="separator" aria-orientation="vertical" aria-label="Resize file tree" />
      <FileNavigationContext.Provider value={props.navigation}>
        <IdeSidebar
          view={sidebar.view}
          onView={sidebar.setView}
          badges={{ comments: sidebar.comments.threads.filter((t) => !t.resolved).length }}
          views={{
            files: () => <FileTree entries={entries} loaded={treeLoaded} canEdit={!readOnly && treeLoaded} activeFile={props.activeFile} presence={props.presence} onOpen={onOpen} onApply={props.onApply} onUpload={props.onUpload} />,
            search: () => <SearchPanel projectId={projectId} canReplace={!readOnly} focusSignal={sidebar.searchFocus} />,
            comments: () => (
              <CommentsPanel comments={sidebar.comments} entries={entries} draft={sidebar.draft} onDraftDone={sidebar.clearDraft} focused={sidebar.focusedThread}
                onOpen={(t) => { onOpen(t.fileId); sidebar.revealInEditor(t.id); }}
                meId={props.meId} canModerate={!readOnly} />
            ),
          }}
          footer={<ParticipantsList participants={props.participants} entries={entries} following={props.following} onFollow={props.onFollow} onStopFollowing={props.onStopFollowing} />}
        />
      </FileNavigationContext.Provider>
    </aside>
  );
}

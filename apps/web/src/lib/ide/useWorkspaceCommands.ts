'use client';
import type { RefObject } from 'react';
import { useRouter } from 'next/navigation';
import type { editor as MonacoEditor } from 'monaco-editor';
import { useIdeCommands, type IdeCommand } from './CommandRegistry';
import type { useBlame } from '@/lib/history/useBlame';

export interface WorkspaceCommandsContext {
  projectId: string;
  activeFile: string | null;
  readOnly: boolean;
  isMarkdown: boolean;
  editorRef: RefObject<MonacoEditor.IStandaloneCodeEditor | null>;
  layout: { sidebarOpen: boolean; reviewOpen: boolean; toggleSidebar(): void; toggleReview(): void };
  split: boolean;
  blame: ReturnType<typeof useBlame>;
  quickOpen(): void;
  findInFiles(): void;
  toggleMarkdownPreview(): void;
  splitRight(fileId: string): void;
  closeSplit(): void;
  openCheckpoints(): void;
  openTimeTravel(): void;
}

/** The workspace's own commands in the command palette (besides Monaco's and the panels'). */
export function useWorkspaceCommands(c: WorkspaceCommandsContext): void {
  const router = useRouter();
  const { projectId, activeFile, readOnly, layout, blame } = c;
  const focusEditorThen = (action: string) => {
    const editor = c.editorRef.current;
    if (!editor) return;
    editor.focus();
    editor.trigger('palette', action, null);
  };
  const commands: IdeCommand[] = [
    { id: 'files.quickOpen', label: 'Go to File…', keybinding: 'Ctrl+P', run: c.quickOpen },
    { id: 'comments.add', label: 'Comments: Add Comment on Selection', keybinding: 'Ctrl+Alt+M', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => focusEditorThen('tandem.addComment') },
    { id: 'search.findInFiles', label: 'Search: Find in Files', keybinding: 'Ctrl+Shift+F', run: c.findInFiles },
    { id: 'view.toggleSidebar', label: layout.sidebarOpen ? 'Hide File Tree' : 'Show File Tree', keybinding: 'Ctrl+B', run: layout.toggleSidebar },
    { id: 'view.toggleMarkdownPreview', label: 'Markdown: Toggle Preview', enabled: c.isMarkdown, disabledReason: 'Open a Markdown file first', run: c.toggleMarkdownPreview },
    { id: 'view.splitRight', label: 'View: Split Editor Right', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => activeFile && c.splitRight(activeFile) },
    { id: 'view.closeSplit', label: 'View: Close Split Editor', enabled: c.split, disabledReason: 'The editor is not split', run: c.closeSplit },
    { id: 'history.blame', label: blame.mode === 'off' ? 'History: Show Blame' : 'History: Hide Blame', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => blame.setMode((m) => (m === 'off' ? 'all' : 'off')) },
    { id: 'history.blameAi', label: 'History: Show Only AI-Written Code', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => blame.setMode('ai') },
    { id: 'history.timeTravel', label: 'History: Time Travel…', run: c.openTimeTravel },
    { id: 'history.checkpoints', label: 'History: Checkpoints, Restore and Git Download…', run: c.openCheckpoints },
    { id: 'view.toggleReview', label: layout.reviewOpen ? 'Hide AI Edits Panel' : 'Show AI Edits Panel', run: layout.toggleReview },
    {
      id: 'ai.edit', label: 'AI: Edit Selection…', keybinding: 'Ctrl+K', enabled: !readOnly && !!activeFile,
      disabledReason: readOnly ? 'Viewers cannot ask for AI edits' : 'Open a file first', run: () => focusEditorThen('tandem.aiEdit'),
    },
    { id: 'editor.commands', label: 'Editor: Show Editor Commands', keybinding: 'F1', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => focusEditorThen('editor.action.quickCommand') },
    { id: 'project.settings', label: 'Project: Settings', run: () => router.push(`/projects/${projectId}/settings`) },
    { id: 'project.activity', label: 'Project: AI Activity', run: () => router.push(`/projects/${projectId}/activity`) },
    { id: 'project.download', label: 'Project: Download as Zip', run: () => { window.location.href = `/api/projects/${projectId}/archive.zip`; } },
    { id: 'project.all', label: 'Go to All Projects', run: () => router.push('/projects') },
  ];
  useIdeCommands(commands);
}

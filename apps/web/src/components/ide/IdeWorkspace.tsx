'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { editor as MonacoEditor } from 'monaco-editor';
import { languageForPath } from '@tandem/protocol';
import { userColor } from '@/components/Avatar';
import type { TreeEdit } from '@/lib/ide/fileTree';
import { presenceOf, type Participant } from '@/lib/ide/presence';
import { useUpload } from '@/lib/ide/uploadFiles';
import { useProjectSession } from '@/lib/ide/useProjectSession';
import { trpc } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';
import { CursorStore } from '@/lib/ide/cursorStore';
import type { SplitSupport } from './CodeEditor';
import { EditorTabs } from './EditorTabs';
import { SplitIcon } from './Icons';
import { IdeSidebar } from './IdeSidebar';
import { FileTree } from './FileTree';
import { BinaryFileView } from './BinaryFileView';
import { SearchPanel } from './SearchPanel';
import { CommentsPanel } from '@/components/comments/CommentsPanel';
import { useSidebarViews } from '@/lib/ide/useSidebarViews';
import { ProblemsButton } from './ProblemsButton';
import { IdeTopBar } from './IdeTopBar';
import { ParticipantsList } from './ParticipantsList';
import { StatusBar } from './StatusBar';
import { SandboxPanel } from '@/components/sandbox/SandboxPanel';
import { ReviewPanel } from '@/components/review/ReviewPanel';
import { AiEditPrompt } from '@/components/review/AiEditPrompt';
import { useReview } from '@/lib/review/useReview';
import { useAgentRuns } from '@/lib/agent/useAgentRuns';
import { agentInlineChanges } from '@/lib/agent/agentInlineChanges';
import { useProjectStream } from '@/lib/useProjectStream';
import { useInlineCompletions } from '@/lib/ai/useInlineCompletions';
import { CompletionStatusBadge } from '@/components/ai/CompletionStatusBadge';
import { CommandRegistry, CommandRegistryContext, useIdeCommands, type IdeCommand } from '@/lib/ide/CommandRegistry';
import { usePanelLayout } from '@/lib/ide/usePanelLayout';
import { useRecentFiles } from '@/lib/ide/useRecentFiles';
import { CommandPalette, type PaletteMode } from './CommandPalette';
import { FileNavigationContext, useEditorNavigation } from '@/lib/ide/FileNavigation';
import { useOpenFileChanges } from '@/lib/ide/useOpenFileChanges';
import { dragResize } from '@/lib/ide/dragResize';
import { useShortcut } from '@/lib/ide/useShortcut';
import { useDocumentTitle } from '@/lib/ide/useDocumentTitle';
import { useSplitEditor } from '@/lib/ide/useSplitEditor';
import { useBlame } from '@/lib/history/useBlame';
import { CheckpointsDialog } from '@/components/history/CheckpointsDialog';
import { TimeTravelDialog } from '@/components/history/TimeTravelDialog';
import './ide.css';

// Monaco touches `window` on import: load it in the browser only.
const CodeEditor = dynamic(() => import('./CodeEditor'), {
  ssr: false,
  loading: () => <div className="editor-empty muted">Loading editor…</div>,
});
// Not needed for the first editable editor: loaded when shown.
const MarkdownPreview = dynamic(() => import('./MarkdownPreview').then((m) => m.MarkdownPreview), { ssr: false });
const AgentPanel = dynamic(() => import('@/components/agent/AgentPanel').then((m) => m.AgentPanel), { ssr: false });

const SplitEditor = dynamic(() => import('./SplitEditor'), { ssr: false });

type Notice = { kind: 'info' | 'warn' | 'error'; text: string } | null;

/** The IDE: file tree, tabs, the shared editor, presence and follow mode for one project. */
export function IdeWorkspace({ projectId }: { projectId: string }) {
  const registry = useMemo(() => new CommandRegistry(), []);
  return (
    <CommandRegistryContext.Provider value={registry}>
      <Workspace projectId={projectId} registry={registry} />
    </CommandRegistryContext.Provider>
  );
}

function Workspace({ projectId, registry }: { projectId: string; registry: CommandRegistry }) {
  const me = useMe();
  const router = useRouter();
  const project = useQuery(() => trpc.projects.get.query({ projectId }), [projectId]);
  const role = project.data?.role ?? null;
  const [notice, setNotice] = useState<Notice>(null);
  const roleBefore = useRef(role);

  const reloadProject = project.reload;
  const onRoleChanged = useCallback(() => void reloadProject(), [reloadProject]);
  useEffect(() => {
    const before = roleBefore.current;
    roleBefore.current = role;
    if (!before || !role || before === role) return;
    setNotice({
      kind: 'info',
      text: role === 'viewer' ? 'Your role changed to viewer: the project is now read-only for you.' : `Your role changed to ${role}: you can edit now.`,
    });
  }, [role]);

  const user = useMemo(() => (me ? { id: me.id, name: me.name, color: userColor(me.id) } : null), [me]);
  const live = useProjectSession(projectId, user, onRoleChanged);
  const session = live?.session ?? null;
  const snapshot = live?.snapshot ?? null;
  const entries = useMemo(() => snapshot?.entries ?? new Map(), [snapshot?.entries]);
  const participants = useMemo(() => snapshot?.participants ?? [], [snapshot?.participants]);
  const connection = snapshot?.connection ?? 'connecting';
  const ended = snapshot?.ended ?? null;
  // Brief drops (a server restart, a role change) reconnect within a second: no banner for those.
  const connectionTrouble = useSettledFlag(connection === 'offline' || connection === 'reconnecting', 1500);
  const readOnly = (role !== 'owner' && role !== 'editor') || ended !== null;
  const review = useReview(projectId, !readOnly);
  // Kept here, not in the Agent panel: the editor draws the shown run's changes for everyone.
  const projectStream = useProjectStream(projectId);
  const agent = useAgentRuns(projectId, projectStream);
  const agentRun = agent.runs.find((r) => r.id === agent.selectedId) ?? null;
  const { showAgentChanges } = review;
  useEffect(() => showAgentChanges(agentInlineChanges(agentRun, agent.changeset)), [showAgentChanges, agentRun, agent.changeset]);
  const completions = useInlineCompletions(projectId, entries, readOnly);
  const blame = useBlame(projectId, (text) => setNotice({ kind: 'error', text }));
  const [checkpointsOpen, setCheckpointsOpen] = useState(false);
  const [timeTravelOpen, setTimeTravelOpen] = useState(false);

  const [tabs, setTabs] = useState<{ open: string[]; active: string | null }>({ open: [], active: null });
  const { open: openFiles, active: activeFile } = tabs;
  const splitEditor = useSplitEditor(projectId, entries, !!snapshot?.treeLoaded);
  const { split } = splitEditor;
  const [splitSupport, setSplitSupport] = useState<SplitSupport | null>(null);
  // The main editor keeps a live binding (and the model) for every file open in either group; binary files have none.
  const boundFiles = useMemo(() => (split ? [...openFiles, ...split.open.filter((id) => !openFiles.includes(id))] : openFiles).filter((id) => entries.get(id)?.kind !== 'binary'), [openFiles, split, entries]);
  const binaryEntry = activeFile && entries.get(activeFile)?.kind === 'binary' ? entries.get(activeFile)! : null;
  const [following, setFollowing] = useState<number | null>(null);
  const cursor = useMemo(() => new CursorStore(), []);
  const autoOpened = useRef(false);
  const editorRef = useRef<MonacoEditor.IStandaloneCodeEditor | null>(null);
  const [palette, setPalette] = useState<PaletteMode | null>(null);
  const layout = usePanelLayout();
  // The third column shows the AI edits or the Agent panel; a toggle opens its panel, or closes
  // the column when that panel is already shown.
  const [rightPanel, setRightPanel] = useState<'review' | 'agent'>('review');
  const showRight = (panel: 'review' | 'agent') => {
    if (!layout.reviewOpen || rightPanel === panel) layout.toggleReview();
    setRightPanel(panel);
  };

  const showFile = useCallback((fileId: string) => {
    setTabs((t) => ({ open: t.open.includes(fileId) ? t.open : [...t.open, fileId], active: fileId }));
  }, []);

  /** The user's own navigation: opening a file ends follow mode. */
  const openFile = useCallback((fileId: string) => {
    setFollowing(null);
    showFile(fileId);
  }, [showFile]);

  const closeFile = useCallback((fileId: string) => {
    setTabs((t) => {
      const index = t.open.indexOf(fileId);
      if (index < 0) return t;
      const open = t.open.filter((id) => id !== fileId);
      return { open, active: t.active === fileId ? open[Math.min(index, open.length - 1)] ?? null : t.active };
    });
  }, []);

  // Publish which file this tab is in (project-wide presence).
  useEffect(() => {
    session?.setActiveFile(activeFile);
  }, [session, activeFile]);

  // Files deleted by anyone close their tabs everywhere; others' deletions and renames are announced.
  const markOwnTreeEdit = useOpenFileChanges(!!snapshot?.treeLoaded, entries, openFiles, closeFile, (text) => setNotice({ kind: 'info', text }));

  // First visit: open the README (or the first file) so the editor is not empty.
  useEffect(() => {
    if (!snapshot?.treeLoaded || autoOpened.current) return;
    autoOpened.current = true;
    const files = [...entries].filter(([, e]) => e.kind === 'file').sort(([, a], [, b]) => a.path.localeCompare(b.path));
    const first = files.find(([, e]) => /^readme(\.|$)/i.test(e.path)) ?? files[0];
    if (first) showFile(first[0]);
  }, [snapshot?.treeLoaded, entries, showFile]);

  // Follow mode: go where the followed person goes; stop if they leave.
  const followed: Participant | undefined = participants.find((p) => p.session === following);
  useEffect(() => {
    if (following === null || !snapshot) return;
    if (!followed) {
      setFollowing(null);
      setNotice({ kind: 'info', text: 'The person you were following left the project.' });
      return;
    }
    if (followed.activeFile && followed.activeFile !== activeFile && (entries.get(followed.activeFile)?.kind ?? 'folder') !== 'folder') showFile(followed.activeFile);
  }, [following, followed, activeFile, entries, snapshot, showFile]);

  const follow = useCallback((sessionId: number) => {
    setFollowing(sessionId);
    setNotice(null);
  }, []);
  const stopFollowing = useCallback(() => setFollowing(null), []);

  const navigation = useEditorNavigation(entries, openFile, editorRef);

  const applyTreeEdit = useCallback((edit: TreeEdit) => {
    markOwnTreeEdit();
    session?.applyTreeEdit(edit);
  }, [session, markOwnTreeEdit]);

  const { uploading, upload } = useUpload(projectId, setNotice);
  const presenceByFile = useMemo(() => presenceOf(participants), [participants]);

  const activePath = activeFile ? entries.get(activeFile)?.path ?? null : null;
  const recent = useRecentFiles(projectId, activeFile);
  const [markdownPreview, setMarkdownPreview] = useState(true);
  const isMarkdown = !!activePath && /\.(md|markdown)$/i.test(activePath);
  const showPreview = isMarkdown && markdownPreview && !!activeFile && !!session;

  useDocumentTitle(activePath, project.data?.name);

  // Ctrl/Cmd+P: quick open; Ctrl/Cmd+Shift+P: command palette; Ctrl/Cmd+B: file tree (as in VS Code).
  useShortcut('p', false, () => setPalette('files'));
  useShortcut('p', true, () => setPalette('commands'));
  useShortcut('b', false, layout.toggleSidebar);
  const sidebar = useSidebarViews(projectId, layout.showSidebar);

  const paletteFiles = useMemo(() => {
    const rank = new Map(recent.map((id, i) => [id, i]));
    return [...entries]
      .filter(([, e]) => e.kind !== 'folder')
      .map(([id, e]) => ({ id, path: e.path }))
      .sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity) || a.path.localeCompare(b.path));
  }, [entries, recent]);

  const focusEditorThen = (action: string) => {
    const editor = editorRef.current;
    if (!editor) return;
    editor.focus();
    editor.trigger('palette', action, null);
  };
  const workspaceCommands: IdeCommand[] = [
    { id: 'files.quickOpen', label: 'Go to File…', keybinding: 'Ctrl+P', run: () => setPalette('files') },
    { id: 'comments.add', label: 'Comments: Add Comment on Selection', keybinding: 'Ctrl+Alt+M', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => focusEditorThen('tandem.addComment') },
    { id: 'search.findInFiles', label: 'Search: Find in Files', keybinding: 'Ctrl+Shift+F', run: sidebar.findInFiles },
    { id: 'view.toggleSidebar', label: layout.sidebarOpen ? 'Hide File Tree' : 'Show File Tree', keybinding: 'Ctrl+B', run: layout.toggleSidebar },
    { id: 'view.toggleMarkdownPreview', label: 'Markdown: Toggle Preview', enabled: isMarkdown, disabledReason: 'Open a Markdown file first', run: () => setMarkdownPreview((p) => !p) },
    { id: 'view.splitRight', label: 'View: Split Editor Right', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => activeFile && splitEditor.show(activeFile) },
    { id: 'view.closeSplit', label: 'View: Close Split Editor', enabled: !!split, disabledReason: 'The editor is not split', run: splitEditor.unsplit },
    { id: 'history.blame', label: blame.mode === 'off' ? 'History: Show Blame' : 'History: Hide Blame', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => blame.setMode((m) => (m === 'off' ? 'all' : 'off')) },
    { id: 'history.blameAi', label: 'History: Show Only AI-Written Code', enabled: !!activeFile, disabledReason: 'Open a file first', run: () => blame.setMode('ai') },
    { id: 'history.timeTravel', label: 'History: Time Travel…', run: () => setTimeTravelOpen(true) },
    { id: 'history.checkpoints', label: 'History: Checkpoints, Restore and Git Download…', run: () => setCheckpointsOpen(true) },
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
  useIdeCommands(workspaceCommands);

  const fileProblem = activeFile ? snapshot?.fileProblems.get(activeFile) : undefined;

  if (project.error) {
    return (
      <div className="ide-fatal">
        <div className="card stack">
          <h1>Cannot open this project</h1>
          <div className="error" role="alert">{project.error}</div>
          <Link className="button" href="/projects">Back to projects</Link>
        </div>
      </div>
    );
  }

  return (
    <div className="ide">
      <IdeTopBar
        projectId={projectId}
        projectName={project.data?.name ?? null}
        role={role}
        connection={connection}
        participants={participants}
        canUpload={!readOnly}
        uploading={uploading}
        onUpload={upload}
        onFollow={follow}
      />
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
          <button className="link small" onClick={() => setNotice(null)}>Dismiss</button>
        </div>
      )}
      <div
        className="ide-body"
        style={{ gridTemplateColumns: `${layout.sidebarOpen ? `${layout.sidebarWidth}px ` : ''}minmax(0, 1fr)${role && layout.reviewOpen ? ' var(--review-width)' : ''}` }}
      >
        {layout.sidebarOpen && <aside className="ide-sidebar" data-testid="sidebar">
          <div className="ide-sidebar-resize" onPointerDown={(e) => dragResize(e, 'x', layout.sidebarWidth, layout.setSidebarWidth)} role="separator" aria-orientation="vertical" aria-label="Resize file tree" />
          <FileNavigationContext.Provider value={navigation}>
            <IdeSidebar
              view={sidebar.view}
              onView={sidebar.setView}
              badges={{ comments: sidebar.comments.threads.filter((t) => !t.resolved).length }}
              views={{
                files: () => <FileTree entries={entries} loaded={!!snapshot?.treeLoaded} canEdit={!readOnly && !!snapshot?.treeLoaded} activeFile={activeFile} presence={presenceByFile} onOpen={openFile} onApply={applyTreeEdit} onUpload={upload} />,
                search: () => <SearchPanel projectId={projectId} canReplace={!readOnly} focusSignal={sidebar.searchFocus} />,
                comments: () => (
                  <CommentsPanel comments={sidebar.comments} entries={entries} draft={sidebar.draft} onDraftDone={sidebar.clearDraft} focused={sidebar.focusedThread}
                    onOpen={(t) => { openFile(t.fileId); sidebar.revealInEditor(t.id); }}
                    meId={me?.id ?? null} canModerate={!readOnly} />
                ),
              }}
              footer={<ParticipantsList participants={participants} entries={entries} following={following} onFollow={follow} onStopFollowing={stopFollowing} />}
            />
          </FileNavigationContext.Provider>
        </aside>}
        <main className="ide-main">
          <div className="editor-groups">
          <div className="editor-group">
          <EditorTabs
            openFiles={openFiles}
            activeFile={activeFile}
            entries={entries}
            onSelect={openFile}
            onClose={closeFile}
            actions={<>
              {activeFile && (
                <button className="icon tab-action" onClick={() => splitEditor.show(activeFile)} title="Split right: open this file in a second editor" aria-label="Split right" data-testid="split-right">
                  <SplitIcon />
                </button>
              )}
              {activeFile && blame.mode !== 'off' && (
                <button className={`small-button tab-action${blame.mode === 'ai' ? ' on' : ''}`} onClick={() => blame.setMode((m) => (m === 'ai' ? 'all' : 'ai'))} aria-pressed={blame.mode === 'ai'} title="Show only the code an AI wrote" data-testid="blame-ai-only">
                  AI-written only
                </button>
              )}
              {activeFile && <button className="small-button tab-action" onClick={() => setTimeTravelOpen(true)} title="Replay this file's history" data-testid="open-time-travel">History</button>}
              {activeFile && (
                <button className={`small-button tab-action${blame.mode !== 'off' ? ' on' : ''}`} onClick={() => blame.setMode((m) => (m === 'off' ? 'all' : 'off'))} aria-pressed={blame.mode !== 'off'} title="Who wrote each line, and when" data-testid="blame-toggle">
                  Blame
                </button>
              )}
              {isMarkdown && (
                <button className={`small-button tab-action${markdownPreview ? ' on' : ''}`} onClick={() => setMarkdownPreview((p) => !p)} aria-pressed={markdownPreview} data-testid="markdown-preview-toggle">
                  {markdownPreview ? 'Hide preview' : 'Preview'}
                </button>
              )}
            </>}
          />
          {followed && (
            <div className="follow-bar" data-testid="follow-bar" style={{ borderColor: followed.user.color }}>
              <span className="presence-dot" style={{ background: followed.user.color }} />
              <span>Following <strong>{followed.user.name}</strong></span>
              <span className="spacer" />
              <button className="small-button" onClick={stopFollowing}>Stop following</button>
            </div>
          )}
          {fileProblem && <div className="ide-banner error" role="alert">{fileProblem}</div>}
          <div className={`editor-area${showPreview ? ' with-preview' : ''}`}>
            {session && (
              <CodeEditor
                projectId={projectId}
                session={session}
                openFiles={boundFiles}
                activeFile={binaryEntry ? null : activeFile}
                entries={entries}
                readOnly={readOnly}
                followSession={following}
                onSplitSupport={setSplitSupport}
                onCursor={cursor.set}
                onOwnNavigation={stopFollowing}
                onEditor={(editor) => {
                  editorRef.current = editor;
                  review.attachEditor(editor);
                  completions.attachEditor(editor);
                  blame.attachEditor(editor);
                }}
                threads={sidebar.comments.threads}
                onAddComment={sidebar.startThread}
                onOpenThread={sidebar.focusThread}
                revealThread={sidebar.revealThread}
                onProblem={(text) => setNotice({ kind: 'error', text })}
                onOpenPath={(path, position) => {
                  const fileId = navigation.fileIdAt(path);
                  if (!fileId) return false;
                  if (position) navigation.openAt(fileId, position.line, position.column);
                  else openFile(fileId);
                  return true;
                }}
                onShownFile={(file) => {
                  navigation.shown(file?.fileId ?? null);
                  review.showFile(file);
                  completions.showFile(file);
                  blame.showFile(file);
                }}
              />
            )}
            {binaryEntry && <BinaryFileView key={activeFile} projectId={projectId} fileId={activeFile!} entry={binaryEntry} />}
            {showPreview && <MarkdownPreview key={activeFile} session={session} fileId={activeFile} />}
            {!activeFile && (
              <div className="editor-empty">
                {snapshot?.treeLoaded ? <p className="muted">Open a file from the tree{readOnly ? '' : ', or create one'}.</p> : <p className="muted">Loading project…</p>}
              </div>
            )}
          </div>
          </div>
          {split && (
            <div className="editor-group split" data-testid="split-group">
              <EditorTabs
                openFiles={split.open}
                activeFile={split.active}
                entries={entries}
                onSelect={splitEditor.show}
                onClose={splitEditor.close}
                actions={<button className="small-button tab-action" onClick={splitEditor.unsplit} data-testid="close-split">Close split</button>}
              />
              <div className="editor-area">
                {splitSupport && (
                  <SplitEditor
                    monaco={splitSupport.monaco}
                    path={split.active ? entries.get(split.active)?.path ?? null : null}
                    readOnly={readOnly}
                    undo={() => split.active && splitSupport.undo(split.active)}
                    redo={() => split.active && splitSupport.redo(split.active)}
                  />
                )}
              </div>
            </div>
          )}
          </div>
          {role && (
            <FileNavigationContext.Provider value={navigation}>
              <SandboxPanel projectId={projectId} canControl={!readOnly} />
            </FileNavigationContext.Provider>
          )}
        </main>
        {role && layout.reviewOpen && (rightPanel === 'agent'
          ? <AgentPanel projectId={projectId} role={role} agent={agent} comments={sidebar.comments} meId={me?.id ?? null} />
          : <ReviewPanel review={review} role={role} pathOf={(id) => entries.get(id)?.path ?? ''} onOpenFile={openFile} comments={sidebar.comments} meId={me?.id ?? null} />)}
      </div>
      <StatusBar
        connection={connection}
        path={activePath}
        language={activePath ? languageForPath(activePath) : null}
        cursor={activeFile ? cursor : null}
        readOnly={readOnly}
        toggles={
          <>
            <button className={`status-toggle${layout.sidebarOpen ? ' on' : ''}`} onClick={layout.toggleSidebar} title="Show or hide the file tree (Ctrl+B)" data-testid="toggle-sidebar">Files</button>
            {role && (
              <button className={`status-toggle${checkpointsOpen ? ' on' : ''}`} onClick={() => setCheckpointsOpen(true)} title="Checkpoints: restore the project or a file, download as git" data-testid="open-checkpoints">
                Checkpoints
              </button>
            )}
            {role && (
              <button className={`status-toggle${layout.reviewOpen && rightPanel === 'agent' ? ' on' : ''}`} onClick={() => showRight('agent')} title="Show or hide the Agent panel" data-testid="toggle-agent">
                Agent
              </button>
            )}
            {role && (
              <button className={`status-toggle${layout.reviewOpen && rightPanel === 'review' ? ' on' : ''}`} onClick={() => showRight('review')} title="Show or hide the AI edits panel" data-testid="toggle-review">
                AI edits{review.snapshot.open.length > 0 ? ` (${review.snapshot.open.length})` : ''}
              </button>
            )}
          </>
        }
      >
        <ProblemsButton navigation={navigation} />
        <CompletionStatusBadge projectId={projectId} />
      </StatusBar>
      {checkpointsOpen && (
        <CheckpointsDialog
          projectId={projectId}
          file={activeFile && activePath ? { id: activeFile, path: activePath } : null}
          canEdit={!readOnly}
          onClose={() => setCheckpointsOpen(false)}
        />
      )}
      {timeTravelOpen && <TimeTravelDialog projectId={projectId} file={activeFile && activePath ? { id: activeFile, path: activePath } : null} onClose={() => setTimeTravelOpen(false)} />}
      {review.prompt && (
        <AiEditPrompt target={review.prompt} top={review.promptTop} path={entries.get(review.prompt.fileId)?.path ?? ''} onSubmit={review.request} onClose={review.closePrompt} />
      )}
      {palette && (
        <CommandPalette
          mode={palette}
          files={paletteFiles}
          commands={registry.list()}
          onOpenFile={openFile}
          onClose={() => setPalette(null)}
        />
      )}
    </div>
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

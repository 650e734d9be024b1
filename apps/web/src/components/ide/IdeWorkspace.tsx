'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import type { editor as MonacoEditor } from 'monaco-editor';
import { languageForPath } from '@tandem/protocol';
import { userColor } from '@/components/Avatar';
import type { TreeEdit } from '@/lib/ide/fileTree';
import { presenceOf } from '@/lib/ide/presence';
import { useUpload } from '@/lib/ide/uploadFiles';
import { useProjectSession } from '@/lib/ide/useProjectSession';
import { trpc } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';
import { CursorStore } from '@/lib/ide/cursorStore';
import type { CodeEditorProps } from './CodeEditor';
import { useProjectEditors } from './useProjectEditors';
import { EditorTabs } from './EditorTabs';
import { BinaryFileView } from './BinaryFileView';
import { useSidebarViews } from '@/lib/ide/useSidebarViews';
import { ProblemsButton } from './ProblemsButton';
import { IdeTopBar } from './IdeTopBar';
import { StatusBar } from './StatusBar';
import { IdeBanners, type Notice } from './IdeBanners';
import { WorkspaceSidebar } from './WorkspaceSidebar';
import { FollowBar, MainTabActions } from './EditorGroupBars';
import { StatusToggles, type RightPanel } from './StatusToggles';
import { SandboxPanel } from '@/components/sandbox/SandboxPanel';
import { ReviewPanel } from '@/components/review/ReviewPanel';
import { AiEditPrompt } from '@/components/review/AiEditPrompt';
import { useReview } from '@/lib/review/useReview';
import { useAgentRuns } from '@/lib/agent/useAgentRuns';
import { agentInlineChanges } from '@/lib/agent/agentInlineChanges';
import { useProjectStream } from '@/lib/useProjectStream';
import { useInlineCompletions } from '@/lib/ai/useInlineCompletions';
import { CompletionStatusBadge } from '@/components/ai/CompletionStatusBadge';
import { CommandRegistry, CommandRegistryContext } from '@/lib/ide/CommandRegistry';
import { usePanelLayout } from '@/lib/ide/usePanelLayout';
import { useRecentFiles } from '@/lib/ide/useRecentFiles';
import { CommandPalette, type PaletteMode } from './CommandPalette';
import { FileNavigationContext, useEditorNavigation } from '@/lib/ide/FileNavigation';
import { useOpenFileChanges } from '@/lib/ide/useOpenFileChanges';
import { useShortcut } from '@/lib/ide/useShortcut';
import { useDocumentTitle } from '@/lib/ide/useDocumentTitle';
import { useSplitEditor } from '@/lib/ide/useSplitEditor';
import { useAutoOpen, useEditorTabs, useFollowMode } from '@/lib/ide/useEditorTabs';
import { useRoleNotice } from '@/lib/ide/useRoleNotice';
import { useWorkspaceCommands } from '@/lib/ide/useWorkspaceCommands';
import { useBlame } from '@/lib/history/useBlame';
import './ide.css';

// Monaco touches `window` on import: load it in the browser only.
const CodeEditor = dynamic(() => import('@/lib/ide/editorChunk').then((m) => m.CodeEditor), {
  ssr: false,
  loading: () => <div className="editor-empty muted">Loading editor…</div>,
});
// Not needed for the first editable editor: loaded when shown.
const MarkdownPreview = dynamic(() => import('./MarkdownPreview').then((m) => m.MarkdownPreview), { ssr: false });
const AgentPanel = dynamic(() => import('@/components/agent/AgentPanel').then((m) => m.AgentPanel), { ssr: false });
// Dialogs: loaded when first opened (with checkpoints comes the Git push panel).
const CheckpointsDialog = dynamic(() => import('@/components/history/CheckpointsDialog').then((m) => m.CheckpointsDialog), { ssr: false });
const TimeTravelDialog = dynamic(() => import('@/components/history/TimeTravelDialog').then((m) => m.TimeTravelDialog), { ssr: false });

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
  const project = useQuery(() => trpc.projects.get.query({ projectId }), [projectId]);
  const role = project.data?.role ?? null;
  const [notice, setNotice] = useState<Notice>(null);
  const info = useCallback((text: string | null) => setNotice(text === null ? null : { kind: 'info', text }), []);
  const showProblem = useCallback((text: string) => setNotice({ kind: 'error', text }), []);
  useRoleNotice(role, info);

  const reloadProject = project.reload;
  const onRoleChanged = useCallback(() => void reloadProject(), [reloadProject]);
  const user = useMemo(() => (me ? { id: me.id, name: me.name, color: userColor(me.id) } : null), [me]);
  const live = useProjectSession(projectId, user, onRoleChanged);
  const session = live?.session ?? null;
  const snapshot = live?.snapshot ?? null;
  const entries = useMemo(() => snapshot?.entries ?? new Map(), [snapshot?.entries]);
  const participants = useMemo(() => snapshot?.participants ?? [], [snapshot?.participants]);
  const treeLoaded = !!snapshot?.treeLoaded;
  const connection = snapshot?.connection ?? 'connecting';
  const ended = snapshot?.ended ?? null;
  const readOnly = (role !== 'owner' && role !== 'editor') || ended !== null;
  const review = useReview(projectId, !readOnly);
  // Kept here, not in the Agent panel: the editor draws the shown run's changes for everyone.
  const projectStream = useProjectStream(projectId);
  const agent = useAgentRuns(projectId, projectStream);
  const agentRun = agent.runs.find((r) => r.id === agent.selectedId) ?? null;
  const { showAgentChanges } = review;
  useEffect(() => showAgentChanges(agentInlineChanges(agentRun, agent.changeset)), [showAgentChanges, agentRun, agent.changeset]);
  const completions = useInlineCompletions(projectId, entries, readOnly);
  const blame = useBlame(projectId, showProblem);
  const [checkpointsOpen, setCheckpointsOpen] = useState(false);
  const [timeTravelOpen, setTimeTravelOpen] = useState(false);

  const { openFiles, activeFile, showFile, closeFile } = useEditorTabs();
  const splitEditor = useSplitEditor(projectId, entries, treeLoaded);
  const { split } = splitEditor;
  // Binary files (images, fonts…) have no text model: they open in a viewer instead of the editor.
  const binaryOf = (id: string | null | undefined) => (id && entries.get(id)?.kind === 'binary' ? entries.get(id)! : null);
  const textFiles = (ids: string[]) => ids.filter((id) => !binaryOf(id));
  const binaryEntry = binaryOf(activeFile);
  const splitBinary = binaryOf(split?.active);
  const cursor = useMemo(() => new CursorStore(), []);
  const editorRef = useRef<MonacoEditor.IStandaloneCodeEditor | null>(null);
  const [palette, setPalette] = useState<PaletteMode | null>(null);
  const layout = usePanelLayout();
  // The third column shows the AI edits or the Agent panel; a toggle opens its panel, or closes
  // the column when that panel is already shown.
  const [rightPanel, setRightPanel] = useState<RightPanel>('review');
  const showRight = (panel: RightPanel) => {
    if (!layout.reviewOpen || rightPanel === panel) layout.toggleReview();
    setRightPanel(panel);
  };

  const { following, followed, follow, stopFollowing } = useFollowMode(participants, !!snapshot, activeFile, entries, showFile, info);
  /** The user's own navigation: opening a file ends follow mode. */
  const openFile = useCallback((fileId: string) => {
    stopFollowing();
    showFile(fileId);
  }, [showFile, stopFollowing]);

  // Publish which file this tab is in (project-wide presence).
  useEffect(() => {
    session?.setActiveFile(activeFile);
  }, [session, activeFile]);

  // Files deleted by anyone close their tabs everywhere; others' deletions and renames are announced.
  const markOwnTreeEdit = useOpenFileChanges(treeLoaded, entries, openFiles, closeFile, info);
  useAutoOpen(treeLoaded, entries, showFile);

  const navigation = useEditorNavigation(entries, openFile, editorRef);
  const splitEditorRef = useRef<MonacoEditor.IStandaloneCodeEditor | null>(null);
  const splitNavigation = useEditorNavigation(entries, splitEditor.show, splitEditorRef);
  const projectEditors = useProjectEditors(projectId, session, entries, {
    // Go to definition / references into another file: open its tab in the group it was asked from.
    open: (path, position, source) => {
      const nav = source === splitEditorRef.current ? splitNavigation : navigation;
      const fileId = nav.fileIdAt(path);
      if (!fileId) return false;
      nav.openAt(fileId, position?.line ?? 1, position?.column ?? 1);
      return true;
    },
    problem: showProblem,
  });

  const applyTreeEdit = useCallback((edit: TreeEdit) => {
    markOwnTreeEdit();
    session?.applyTreeEdit(edit);
  }, [session, markOwnTreeEdit]);

  const { uploading, upload } = useUpload(projectId, setNotice);
  const presenceByFile = useMemo(() => presenceOf(participants), [participants]);

  const activePath = activeFile ? entries.get(activeFile)?.path ?? null : null;
  const recent = useRecentFiles(projectId, activeFile);
  const [markdownPreview, setMarkdownPreview] = useState(true);
  const toggleMarkdownPreview = () => setMarkdownPreview((p) => !p);
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

  const { feature: reviewFeature } = review;
  const editorFeatures = useMemo(() => [reviewFeature, completions.feature, blame.feature], [reviewFeature, completions.feature, blame.feature]);
  // What both editor groups' editors get: each is a full editor (AI edits, comments, cursors, blame).
  const editorProps = projectEditors && {
    project: projectEditors,
    entries,
    readOnly,
    features: editorFeatures,
    threads: sidebar.comments.threads,
    onAddComment: sidebar.startThread,
    onOpenThread: sidebar.focusThread,
  } satisfies Partial<CodeEditorProps>;

  useWorkspaceCommands({
    projectId, activeFile, readOnly, isMarkdown, editorRef, layout, split: !!split, blame,
    quickOpen: () => setPalette('files'),
    findInFiles: sidebar.findInFiles,
    toggleMarkdownPreview,
    splitRight: splitEditor.show,
    closeSplit: splitEditor.unsplit,
    openCheckpoints: () => setCheckpointsOpen(true),
    openTimeTravel: () => setTimeTravelOpen(true),
  });

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
      <IdeBanners projectId={projectId} connection={connection} ended={ended} notice={notice} onDismiss={() => setNotice(null)} />
      <div
        className="ide-body"
        style={{ gridTemplateColumns: `${layout.sidebarOpen ? `${layout.sidebarWidth}px ` : ''}minmax(0, 1fr)${role && layout.reviewOpen ? ' var(--review-width)' : ''}` }}
      >
        {layout.sidebarOpen && (
          <WorkspaceSidebar
            projectId={projectId}
            sidebar={sidebar}
            width={layout.sidebarWidth}
            onResize={layout.setSidebarWidth}
            navigation={navigation}
            entries={entries}
            treeLoaded={treeLoaded}
            readOnly={readOnly}
            activeFile={activeFile}
            presence={presenceByFile}
            participants={participants}
            following={following}
            meId={me?.id ?? null}
            onOpen={openFile}
            onApply={applyTreeEdit}
            onUpload={upload}
            onFollow={follow}
            onStopFollowing={stopFollowing}
          />
        )}
        <main className="ide-main">
          <div className="editor-groups">
          <div className="editor-group">
          <EditorTabs
            openFiles={openFiles}
            activeFile={activeFile}
            entries={entries}
            onSelect={openFile}
            onClose={closeFile}
            actions={
              <MainTabActions
                activeFile={activeFile}
                isText={!binaryEntry}
                isMarkdown={isMarkdown}
                markdownPreview={markdownPreview}
                onToggleMarkdownPreview={toggleMarkdownPreview}
                blameMode={blame.mode}
                setBlameMode={blame.setMode}
                onSplitRight={splitEditor.show}
                onTimeTravel={() => setTimeTravelOpen(true)}
              />
            }
          />
          {followed && <FollowBar followed={followed} onStop={stopFollowing} />}
          {fileProblem && <div className="ide-banner error" role="alert">{fileProblem}</div>}
          <div className={`editor-area${showPreview ? ' with-preview' : ''}`}>
            {editorProps ? (
              <CodeEditor
                {...editorProps}
                testId="code-editor"
                testHook
                openFiles={textFiles(openFiles)}
                activeFile={binaryEntry ? null : activeFile}
                followSession={following}
                onCursor={cursor.set}
                onOwnNavigation={stopFollowing}
                onEditor={(editor) => { editorRef.current = editor; }}
                revealThread={sidebar.revealThread}
                onShownFile={(file) => navigation.shown(file?.fileId ?? null)}
              />
            ) : session && <div className="editor-empty muted">Loading editor…</div>}
            {binaryEntry && <BinaryFileView key={activeFile} projectId={projectId} fileId={activeFile!} entry={binaryEntry} />}
            {showPreview && <MarkdownPreview key={activeFile} session={session} fileId={activeFile} />}
            {!activeFile && (
              <div className="editor-empty">
                {treeLoaded ? <p className="muted">Open a file from the tree{readOnly ? '' : ', or create one'}.</p> : <p className="muted">Loading project…</p>}
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
                {editorProps && (
                  <CodeEditor
                    {...editorProps}
                    testId="split-editor"
                    openFiles={textFiles(split.open)}
                    activeFile={splitBinary ? null : split.active}
                    onEditor={(editor) => { splitEditorRef.current = editor; }}
                    onShownFile={(file) => splitNavigation.shown(file?.fileId ?? null)}
                  />
                )}
                {splitBinary && <BinaryFileView key={split.active} projectId={projectId} fileId={split.active!} entry={splitBinary} />}
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
        language={activePath && !binaryEntry ? languageForPath(activePath) : null}
        cursor={activeFile && !binaryEntry ? cursor : null}
        readOnly={readOnly}
        toggles={
          <StatusToggles
            hasRole={!!role}
            sidebarOpen={layout.sidebarOpen}
            onToggleSidebar={layout.toggleSidebar}
            checkpointsOpen={checkpointsOpen}
            onOpenCheckpoints={() => setCheckpointsOpen(true)}
            rightShown={layout.reviewOpen ? rightPanel : null}
            onShowRight={showRight}
            openSuggestions={review.snapshot.open.length}
          />
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

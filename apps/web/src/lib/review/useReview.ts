'use client';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type * as monaco from 'monaco-editor';
import type { SuggestionView } from '@tandem/api';
import { useProjectStream } from '@/lib/useProjectStream';
import { trpc } from '@/lib/trpc';
import { encodeRange } from './anchors';
import type { AgentInlineChange } from '@/lib/agent/agentInlineChanges';
import type { EditorFeature } from '@/lib/ide/editorFeature';
import type { DiffFile, InlineDiffDecorations } from './InlineDiffDecorations';
import { ProjectSuggestions, type SuggestionsSnapshot } from './ProjectSuggestions';

/** What the AI edit prompt is about to rewrite: whole lines of the selection, or the whole file. */
export interface EditTarget {
  fileId: string;
  start: number;
  end: number;
  startLine: number;
  endLine: number;
  wholeFile: boolean;
}

export type ReviewAction =
  | { kind: 'acceptHunk' | 'rejectHunk' | 'approve'; id: string; hunk: number }
  | { kind: 'acceptAll' | 'rejectAll' | 'cancel' | 'regenerate' | 'undo'; id: string };

export interface Review {
  projectId: string;
  snapshot: SuggestionsSnapshot;
  /** The prompt box is open for this target. */
  prompt: EditTarget | null;
  /** Where the prompt goes (viewport px) so it does not cover the code it will change; null: default. */
  promptTop: number | null;
  /** Opens the prompt for the editor's selection (or the whole file). */
  openPrompt(): void;
  closePrompt(): void;
  request(instruction: string): Promise<void>;
  run(action: ReviewAction): Promise<void>;
  /** Highlights a hunk in the editor (keyboard navigation in the panel). */
  focus(id: string | null, hunk: number | null): void;
  /** Panel requested by the editor (header "Review" button): the suggestion to select. */
  reviewRequest: { id: string; at: number } | null;
  /** The inline diff and Ctrl/Cmd+K in each editor. */
  feature: EditorFeature;
  /** The pending changes of the agent run in view, drawn in the editor like AI edits. */
  showAgentChanges(changes: readonly AgentInlineChange[]): void;
}

interface EditorView {
  diff: InlineDiffDecorations | null;
  file: DiffFile | null;
}

const EMPTY: SuggestionsSnapshot = { open: [], closed: [], error: null };

/**
 * Shared AI edits in the IDE: the project's suggestions (kept live from the tab's one event
 * stream), the inline diff in the editor, the Ctrl/Cmd+K prompt, and the review actions.
 */
export function useReview(projectId: string, canRequest: boolean): Review {
  const stream = useProjectStream(projectId);
  const [suggestions, setSuggestions] = useState<ProjectSuggestions | null>(null);
  useEffect(() => {
    if (!stream) return;
    const s = new ProjectSuggestions(projectId, stream);
    setSuggestions(s);
    return () => {
      s.dispose();
      setSuggestions(null);
    };
  }, [projectId, stream]);
  const snapshot = useSyncExternalStore(
    suggestions?.subscribe ?? noSubscribe,
    suggestions?.getSnapshot ?? emptySnapshot,
    emptySnapshot,
  );

  /** Each editor (one per editor group): its inline diff once loaded, and the file it shows. */
  const views = useRef(new Map<monaco.editor.IStandaloneCodeEditor, EditorView>());
  /** The editor last focused: the prompt box (from the panel's button) is about its selection. */
  const lastFocused = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  /** The file the open prompt is about. */
  const promptFile = useRef<DiffFile | null>(null);
  const [prompt, setPrompt] = useState<EditTarget | null>(null);
  const [promptTop, setPromptTop] = useState<number | null>(null);
  const [reviewRequest, setReviewRequest] = useState<{ id: string; at: number } | null>(null);
  const canRequestRef = useRef(canRequest);
  canRequestRef.current = canRequest;

  const run = useCallback(async (action: ReviewAction) => {
    if (!suggestions) return;
    const ref = { projectId, suggestionId: action.id };
    const call = (): Promise<SuggestionView> => {
      switch (action.kind) {
        case 'acceptHunk': return trpc.suggestions.acceptHunk.mutate({ ...ref, hunk: action.hunk });
        case 'rejectHunk': return trpc.suggestions.rejectHunk.mutate({ ...ref, hunk: action.hunk });
        case 'approve': return trpc.suggestions.approve.mutate({ ...ref, hunk: action.hunk });
        case 'acceptAll': return trpc.suggestions.acceptAll.mutate(ref);
        case 'rejectAll': return trpc.suggestions.rejectAll.mutate(ref);
        case 'cancel': return trpc.suggestions.cancel.mutate(ref);
        case 'regenerate': return trpc.suggestions.regenerate.mutate(ref);
        case 'undo': return trpc.suggestions.undo.mutate(ref);
      }
    };
    await suggestions.act(call).catch(() => {}); // the error is in the snapshot
  }, [projectId, suggestions]);
  const runRef = useRef(run);
  runRef.current = run;

  const openPromptIn = useCallback((editor: monaco.editor.IStandaloneCodeEditor | null) => {
    const file = editor ? views.current.get(editor)?.file ?? null : null;
    const target = currentTarget(editor, file);
    if (!editor || !target || !canRequestRef.current) return;
    promptFile.current = file;
    setPromptTop(target.wholeFile ? null : promptTopBeside(editor, target));
    setPrompt(target);
  }, []);
  const openPrompt = useCallback(() => openPromptIn(lastFocused.current), [openPromptIn]);

  const agentChangesRef = useRef<readonly AgentInlineChange[]>([]);
  const showAgentChanges = useCallback((changes: readonly AgentInlineChange[]) => {
    agentChangesRef.current = changes;
    for (const view of views.current.values()) view.diff?.setAgentChanges(changes);
  }, []);

  /** Draws the inline diff in an editor, and gives it Ctrl/Cmd+K (the editor calls this once). */
  const feature: EditorFeature = useMemo(() => ({
    attach(editor) {
      const view: EditorView = { diff: null, file: null };
      views.current.set(editor, view);
      lastFocused.current ??= editor;
      const disposables = [editor.onDidFocusEditorText(() => { lastFocused.current = editor; })];
      void import('@/lib/ide/editorChunk').then(({ InlineDiffDecorations, KeyMod, KeyCode }) => {
        if (views.current.get(editor) !== view) return;
        view.diff = new InlineDiffDecorations(editor, {
          regenerate: (id) => void runRef.current({ kind: 'regenerate', id }),
          cancel: (id) => void runRef.current({ kind: 'cancel', id }),
          review: (id) => setReviewRequest({ id, at: Date.now() }),
        });
        view.diff.show(view.file);
        view.diff.setSuggestions(latestOpen.current);
        view.diff.setAgentChanges(agentChangesRef.current);
        disposables.push(editor.addAction({
          id: 'tandem.aiEdit',
          label: 'Ask AI to edit the selection…',
          keybindings: [KeyMod.CtrlCmd | KeyCode.KeyK],
          run: () => openPromptIn(editor),
        }));
      });
      return {
        showFile(file) {
          view.file = file;
          view.diff?.show(file);
        },
        dispose() {
          view.diff?.dispose();
          views.current.delete(editor);
          if (lastFocused.current === editor) lastFocused.current = views.current.keys().next().value ?? null;
          for (const d of disposables) d.dispose();
        },
      };
    },
  }), [openPromptIn]);

  const latestOpen = useRef(snapshot.open);
  latestOpen.current = snapshot.open;
  useEffect(() => {
    for (const view of views.current.values()) view.diff?.setSuggestions(snapshot.open);
  }, [snapshot.open]);

  const request = useCallback(async (instruction: string) => {
    const target = prompt;
    const file = promptFile.current;
    if (!target || !file || !suggestions || file.fileId !== target.fileId) return;
    const range = encodeRange(file.text, target.start, target.end);
    // A refused request is shown in the prompt, where it was asked (not again in the panel).
    await suggestions.act(() => trpc.suggestions.request.mutate({ projectId, fileId: target.fileId, instruction, range: { kind: 'anchor', ...range } }), { report: false });
    setPrompt(null);
  }, [projectId, prompt, suggestions]);

  const focus = useCallback((id: string | null, hunk: number | null) => {
    for (const view of views.current.values()) view.diff?.focus(id, hunk);
  }, []);

  return useMemo(() => ({
    projectId,
    snapshot,
    prompt,
    promptTop,
    openPrompt,
    closePrompt: () => setPrompt(null),
    request,
    run,
    focus,
    reviewRequest,
    feature,
    showAgentChanges,
  }), [projectId, snapshot, prompt, promptTop, openPrompt, request, run, focus, reviewRequest, feature, showAgentChanges]);
}

/** The selection grown to whole lines (an AI edit rewrites lines), or the whole file when nothing is selected. */
/** Height reserved for the prompt box (px), with a gap to the code. */
const PROMPT_HEIGHT = 118;
const PROMPT_GAP = 6;

/** Just above the selected lines if they leave room, else just below them; null when neither fits. */
function promptTopBeside(editor: monaco.editor.IStandaloneCodeEditor, target: EditTarget): number | null {
  const dom = editor.getDomNode();
  if (!dom) return null;
  const box = dom.getBoundingClientRect();
  const first = editor.getScrolledVisiblePosition({ lineNumber: target.startLine, column: 1 });
  const last = editor.getScrolledVisiblePosition({ lineNumber: target.endLine, column: 1 });
  if (first && first.top - PROMPT_HEIGHT - PROMPT_GAP >= 0) return box.top + first.top - PROMPT_HEIGHT - PROMPT_GAP;
  if (last && last.top + last.height + PROMPT_GAP + PROMPT_HEIGHT <= box.height) return box.top + last.top + last.height + PROMPT_GAP;
  return null;
}

function currentTarget(editor: monaco.editor.IStandaloneCodeEditor | null, file: DiffFile | null): EditTarget | null {
  const model = editor?.getModel();
  const selection = editor?.getSelection();
  if (!editor || !model || !file || !selection) return null;
  if (selection.isEmpty()) {
    return { fileId: file.fileId, start: 0, end: model.getValueLength(), startLine: 1, endLine: model.getLineCount(), wholeFile: true };
  }
  const startLine = selection.startLineNumber;
  // A selection ending at column 1 does not include that line.
  const endLine = selection.endColumn === 1 && selection.endLineNumber > startLine ? selection.endLineNumber - 1 : selection.endLineNumber;
  const start = model.getOffsetAt({ lineNumber: startLine, column: 1 });
  const end = endLine < model.getLineCount() ? model.getOffsetAt({ lineNumber: endLine + 1, column: 1 }) : model.getValueLength();
  return { fileId: file.fileId, start, end, startLine, endLine, wholeFile: false };
}

const noSubscribe = () => () => {};
const emptySnapshot = () => EMPTY;


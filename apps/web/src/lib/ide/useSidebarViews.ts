'use client';
import { useState } from 'react';
import type { SidebarView } from '@/components/ide/IdeSidebar';
import { useComments, type CommentDraft } from '@/lib/comments/useComments';
import { useShortcut } from './useShortcut';

/**
 * The side bar's state: which view shows, project search (Ctrl/Cmd+Shift+F focuses it) and the
 * comment threads (a draft being written, the thread picked in the editor, the one to scroll to).
 */
export function useSidebarViews(projectId: string, showSidebar: () => void) {
  const [view, setView] = useState<SidebarView>('files');
  const [searchFocus, setSearchFocus] = useState(0);
  const comments = useComments(projectId);
  const [draft, setDraft] = useState<CommentDraft | null>(null);
  const [focusedThread, setFocusedThread] = useState<string | null>(null);
  const [revealThread, setRevealThread] = useState<{ id: string; seq: number } | null>(null);

  const findInFiles = () => {
    showSidebar();
    setView('search');
    setSearchFocus((n) => n + 1);
  };
  useShortcut('f', true, findInFiles);
  const showComments = () => {
    showSidebar();
    setView('comments');
  };

  return {
    view, setView, searchFocus, findInFiles, comments, draft, focusedThread, revealThread,
    clearDraft: () => setDraft(null),
    /** From the editor's Add Comment. */
    startThread: (d: CommentDraft) => { setDraft(d); showComments(); },
    /** A thread's marker was clicked in the editor. */
    focusThread: (id: string) => { setFocusedThread(id); showComments(); },
    /** A thread was picked in the side bar: the editor scrolls to it. */
    revealInEditor: (id: string) => { setFocusedThread(id); setRevealThread((r) => ({ id, seq: (r?.seq ?? 0) + 1 })); },
  };
}

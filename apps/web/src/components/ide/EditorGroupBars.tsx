'use client';
import type { Participant } from '@/lib/ide/presence';
import type { BlameMode } from '@/lib/history/BlameDecorations';
import { SplitIcon } from './Icons';

export interface MainTabActionsProps {
  activeFile: string | null;
  /** The active file is text (binary files have no history or blame to show). */
  isText: boolean;
  isMarkdown: boolean;
  markdownPreview: boolean;
  onToggleMarkdownPreview(): void;
  blameMode: BlameMode;
  setBlameMode(update: (mode: BlameMode) => BlameMode): void;
  onSplitRight(fileId: string): void;
  onTimeTravel(): void;
}

/** Buttons at the right of the main group's tabs: split, blame, Markdown preview. */
export function MainTabActions({ activeFile, isText, isMarkdown, markdownPreview, onToggleMarkdownPreview, blameMode, setBlameMode, onSplitRight, onTimeTravel }: MainTabActionsProps) {
  return (
    <>
      {activeFile && (
        <button className="icon tab-action" onClick={() => onSplitRight(activeFile)} title="Split right: open this file in a second editor" aria-label="Split right" data-testid="split-right">
          <SplitIcon />
        </button>
      )}
      {activeFile && isText && blameMode !== 'off' && (
        <button className={`small-button tab-action${blameMode === 'ai' ? ' on' : ''}`} onClick={() => setBlameMode((m) => (m === 'ai' ? 'all' : 'ai'))} aria-pressed={blameMode === 'ai'} title="Show only the code an AI wrote" data-testid="blame-ai-only">
          AI-written only
        </button>
      )}
      {activeFile && isText && <button className="small-button tab-action" onClick={onTimeTravel} title="Replay this file's history" data-testid="open-time-travel">History</button>}
      {activeFile && isText && (
        <button className={`small-button tab-action${blameMode !== 'off' ? ' on' : ''}`} onClick={() => setBlameMode((m) => (m === 'off' ? 'all' : 'off'))} aria-pressed={blameMode !== 'off'} title="Who wrote each line, and when" data-testid="blame-toggle">
          Blame
        </button>
      )}
      {isMarkdown && (
        <button className={`small-button tab-action${markdownPreview ? ' on' : ''}`} onClick={onToggleMarkdownPreview} aria-pressed={markdownPreview} data-testid="markdown-preview-toggle">
          {markdownPreview ? 'Hide preview' : 'Preview'}
        </button>
      )}
    </>
  );
}

/** Shown while following someone: whom, and a way to stop. */
export function FollowBar({ followed, onStop }: { followed: Participant; onStop(): void }) {
  return (
    <div className="follow-bar" data-testid="follow-bar" style={{ borderColor: followed.user.color }}>
      <span className="presence-dot" style={{ background: followed.user.color }} />
      <span>Following <strong>{followed.user.name}</strong></span>
      <span className="spacer" />
      <button className="small-button" onClick={onStop}>Stop following</button>
    </div>
  );
}

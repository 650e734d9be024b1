'use client';
import { useState } from 'react';
import type { EditTarget } from '@/lib/review/useReview';

/** The small box that asks for an AI edit of the selected lines (or the whole file). */
export function AiEditPrompt({ target, top, path, onSubmit, onClose }: {
  target: EditTarget;
  /** Viewport position chosen beside the selected code; null: the default place. */
  top: number | null;
  path: string;
  onSubmit(instruction: string): Promise<void>;
  onClose(): void;
}) {
  const [instruction, setInstruction] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!instruction.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(instruction.trim());
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const where = target.wholeFile ? 'the whole file' : target.startLine === target.endLine ? `line ${target.startLine}` : `lines ${target.startLine}–${target.endLine}`;
  return (
    <form className="ai-prompt" style={top === null ? undefined : { top }} data-testid="ai-edit-prompt" onSubmit={submit} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div className="ai-prompt-head">
        <span className="tdm-spark">✦</span> AI edit of <strong>{where}</strong> in <code>{path}</code>
      </div>
      <div className="ai-prompt-row">
        <input
          autoFocus
          aria-label="Instruction"
          placeholder="What should change? e.g. add error handling, convert to async/await"
          value={instruction}
          maxLength={2000}
          onChange={(e) => setInstruction(e.target.value)}
        />
        <button type="submit" className="primary" disabled={busy || !instruction.trim()}>{busy ? 'Asking…' : 'Ask AI'}</button>
        <button type="button" onClick={onClose}>Cancel</button>
      </div>
      {error && <div className="error small" role="alert">{error}</div>}
      <div className="muted small">Everyone in this project sees the suggestion stream in and can review it. Nothing changes in the file until a hunk is accepted.</div>
    </form>
  );
}

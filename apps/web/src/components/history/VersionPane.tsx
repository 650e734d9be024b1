'use client';
import { useMemo } from 'react';
import type { AuthorView, VersionView } from '@tandem/api';

export const when = (at: number) => new Date(at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
/** To the second: steps of a project are seconds apart. */
export const whenExact = (at: number) => new Date(at).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const who = (a: AuthorView) => (a.kind === 'person' ? a.user.name : a.kind === 'ai' ? `AI · ${a.model}${a.approvedBy ? ` (accepted by ${a.approvedBy.name})` : ''}` : 'Tandem');

/** A file at one point of its history: its text, or its diff to `against` (now, or another point). */
export function VersionPane({ version, mode, label, against }: { version: VersionView; mode: 'text' | 'diff'; label: string; against: string }) {
  const lines = useMemo(() => version.text.split('\n'), [version]);
  if (mode === 'text') {
    return (
      <pre className="time-travel-text" data-testid="time-travel-text" aria-label={label}>
        {lines.map((l, i) => <span key={i} className="time-travel-line"><span className="muted line-no">{i + 1}</span>{l}{'\n'}</span>)}
        {version.truncated && <span className="muted">… (cut: the file was longer)</span>}
      </pre>
    );
  }
  return (
    <section className="checkpoint-diff time-travel-diff" aria-label="Changes from this point" data-testid="time-travel-hunks">
      <div className="muted">From this point to {against}:</div>
      {version.hunks.length === 0 && <div className="muted">No differences.</div>}
      {version.hunks.map((h, i) => (
        <pre key={i} className="checkpoint-hunk">
          <span className="diff-at muted">@@ line {h.line}</span>
          {split(h.removed).map((l, j) => <span key={`r${j}`} className="diff-removed">- {l}</span>)}
          {split(h.inserted).map((l, j) => <span key={`a${j}`} className="diff-added">+ {l}</span>)}
        </pre>
      ))}
      {version.hunksTruncated && <div className="muted">More changes are not shown.</div>}
    </section>
  );
}

function split(text: string): string[] {
  if (text === '') return [];
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}

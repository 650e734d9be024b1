'use client';
import { useEffect, useRef, useState } from 'react';
import type { ReplaceResult, SearchOutcome } from '@tandem/api';
import { errorMessage, trpc } from '@/lib/trpc';
import { useFileNavigation } from '@/lib/ide/FileNavigation';

export interface SearchPanelProps {
  projectId: string;
  canReplace: boolean;
  /** Bumped by Ctrl+Shift+F: focus the query (and select it). */
  focusSignal: number;
}

const DEBOUNCE_MS = 250;

/**
 * Search and replace across the project (Ctrl+Shift+F), served by the server over the live
 * documents: regex, case, whole word, files to include / exclude; results grouped by file with
 * the line around each match; a click opens the file there. Replace one match or all of them:
 * everyone sees the change live, and Undo takes a replace-all back as one change.
 */
export function SearchPanel({ projectId, canReplace, focusSignal }: SearchPanelProps) {
  const navigation = useFileNavigation();
  const input = useRef<HTMLInputElement>(null);
  const [pattern, setPattern] = useState('');
  const [regex, setRegex] = useState(false);
  const [caseSensitive, setCaseSensitive] = useState(false);
  const [wholeWord, setWholeWord] = useState(false);
  const [include, setInclude] = useState('');
  const [exclude, setExclude] = useState('');
  const [showReplace, setShowReplace] = useState(false);
  const [showFilters, setShowFilters] = useState(false);
  const [replacement, setReplacement] = useState('');
  const [outcome, setOutcome] = useState<SearchOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [lastReplace, setLastReplace] = useState<ReplaceResult | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [focusSignal]);

  const query = { projectId, pattern, regex, caseSensitive, wholeWord, include, exclude };
  const key = JSON.stringify(query);
  useEffect(() => {
    if (!pattern) {
      setOutcome(null);
      setError(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      setBusy(true);
      trpc.search.find.query(query).then(
        (o) => { if (current) { setOutcome(o); setError(null); } },
        (e: unknown) => { if (current && !/newer search/.test(errorMessage(e))) { setOutcome(null); setError(errorMessage(e)); } },
      ).finally(() => { if (current) setBusy(false); });
    }, DEBOUNCE_MS);
    return () => { current = false; clearTimeout(timer); };
  }, [key, refresh]);

  const replace = async (only?: { path: string; start: number }) => {
    setError(null);
    try {
      const result = await trpc.search.replace.mutate({ ...query, replacement, ...(only ? { only } : {}) });
      if (!only) setLastReplace(result);
      if (result.skipped.length > 0) setError(`Not replaced in ${result.skipped.join(', ')}: changed while replacing. Search again and retry.`);
      setRefresh((n) => n + 1);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const undo = async () => {
    if (!lastReplace) return;
    try {
      const r = await trpc.search.undo.mutate({ projectId, replaceId: lastReplace.replaceId });
      setLastReplace(null);
      if (r.changedSince > 0) setError(`${r.changedSince} replaced place(s) were edited since, and kept.`);
      setRefresh((n) => n + 1);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const open = (path: string, line: number, column: number) => {
    const fileId = navigation?.fileIdAt(path);
    if (fileId) navigation?.openAt(fileId, line, column);
  };

  return (
    <section className="ide-section search-panel" aria-label="Search" data-testid="search-panel">
      <div className="ide-section-head"><span>Search</span><span className="spacer" />{busy && <span className="muted small">…</span>}</div>
      <div className="search-form">
        <div className="search-row">
          {canReplace && (
            <button className={`search-toggle-replace${showReplace ? ' on' : ''}`} onClick={() => setShowReplace((v) => !v)} aria-label="Toggle replace" aria-expanded={showReplace} title="Toggle replace">
              {showReplace ? '▾' : '▸'}
            </button>
          )}
          <div className="search-input">
            <input
              ref={input}
              value={pattern}
              onChange={(e) => setPattern(e.target.value)}
              onKeyDown={(e) => { if (e.key === 'Enter') setRefresh((n) => n + 1); }}
              placeholder="Search"
              aria-label="Search in files"
              data-testid="search-input"
              spellCheck={false}
            />
            <button className={`search-opt${caseSensitive ? ' on' : ''}`} onClick={() => setCaseSensitive((v) => !v)} aria-pressed={caseSensitive} title="Match case">Aa</button>
            <button className={`search-opt${wholeWord ? ' on' : ''}`} onClick={() => setWholeWord((v) => !v)} aria-pressed={wholeWord} title="Match whole word"><u>ab</u></button>
            <button className={`search-opt${regex ? ' on' : ''}`} onClick={() => setRegex((v) => !v)} aria-pressed={regex} title="Use regular expression">.*</button>
          </div>
        </div>
        {showReplace && canReplace && (
          <div className="search-row">
            <span className="search-indent" />
            <div className="search-input">
              <input value={replacement} onChange={(e) => setReplacement(e.target.value)} placeholder="Replace" aria-label="Replace with" data-testid="replace-input" spellCheck={false} />
              <button className="search-opt" onClick={() => void replace()} disabled={!outcome || outcome.matchCount === 0} title="Replace all" data-testid="replace-all">All</button>
            </div>
          </div>
        )}
        <button className="link small search-filters-toggle" onClick={() => setShowFilters((v) => !v)} aria-expanded={showFilters}>
          {showFilters ? 'Hide' : 'Show'} file filters{!showFilters && (include || exclude) ? ' (on)' : ''}
        </button>
        {showFilters && (
          <>
            <input className="search-glob" value={include} onChange={(e) => setInclude(e.target.value)} placeholder="files to include, e.g. src/**, *.ts" aria-label="Files to include" spellCheck={false} />
            <input className="search-glob" value={exclude} onChange={(e) => setExclude(e.target.value)} placeholder="files to exclude, e.g. *.test.ts" aria-label="Files to exclude" spellCheck={false} />
          </>
        )}
      </div>
      {error && <div className="search-error" role="alert">{error}</div>}
      {lastReplace && (
        <div className="search-summary" data-testid="replace-summary">
          Replaced {lastReplace.replaced} in {lastReplace.files} file{lastReplace.files === 1 ? '' : 's'}.
          <button className="link small" onClick={() => void undo()} data-testid="replace-undo">Undo</button>
        </div>
      )}
      {outcome && (
        <div className="search-summary muted small" data-testid="search-summary">
          {outcome.matchCount === 0 ? 'No results.' : `${outcome.matchCount}${outcome.truncated ? '+' : ''} result${outcome.matchCount === 1 ? '' : 's'} in ${outcome.files.length} file${outcome.files.length === 1 ? '' : 's'}${outcome.truncated ? ' (refine the search to see all)' : ''}`}
        </div>
      )}
      <ul className="search-results">
        {outcome?.files.map((f) => {
          const isCollapsed = collapsed.has(f.path);
          return (
            <li key={f.path} data-testid="search-file" data-path={f.path}>
              <button className="search-file" onClick={() => setCollapsed((c) => { const n = new Set(c); if (n.has(f.path)) n.delete(f.path); else n.add(f.path); return n; })} title={f.path}>
                <span className="search-caret">{isCollapsed ? '▸' : '▾'}</span>
                <span className="search-file-name">{f.path.split('/').pop()}</span>
                <span className="search-file-dir">{f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : ''}</span>
                <span className="count">{f.matches.length}</span>
              </button>
              {!isCollapsed && (
                <ul>
                  {f.matches.map((m) => (
                    <li key={m.start} className="search-match">
                      <button className="search-match-text" onClick={() => open(f.path, m.line, m.column)} title={`${f.path}:${m.line}:${m.column}`} data-testid="search-match">
                        <span className="search-line">{m.line}</span>
                        <span className="search-preview">
                          {m.preview.slice(0, m.previewStart).trimStart()}
                          <mark className={showReplace && replacement !== '' ? 'replaced' : ''}>{m.preview.slice(m.previewStart, m.previewEnd)}</mark>
                          {m.preview.slice(m.previewEnd)}
                        </span>
                      </button>
                      {showReplace && canReplace && (
                        <button className="search-replace-one" onClick={() => void replace({ path: f.path, start: m.start })} title="Replace" aria-label={`Replace at ${f.path}:${m.line}`}>⇄</button>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

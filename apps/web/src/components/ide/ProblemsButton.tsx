'use client';
import { useEffect, useRef, useState } from 'react';
import type { FileNavigation } from '@/lib/ide/FileNavigation';
import { useProblems } from '@/lib/ide/problemsStore';

/**
 * The status bar's problem counts (errors, warnings) and, on click, the Problems list: every
 * diagnostic of every project file, grouped by file; a click opens the file there.
 */
export function ProblemsButton({ navigation }: { navigation: FileNavigation }) {
  const problems = useProblems();
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.filter((p) => p.severity === 'warning').length;

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', close);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', close);
    };
  }, [open]);

  const byFile = new Map<string, typeof problems>();
  for (const p of problems) byFile.set(p.path, [...(byFile.get(p.path) ?? []), p]);

  return (
    <div className="problems" ref={box}>
      <button className={`status-toggle${open ? ' on' : ''}`} onClick={() => setOpen((o) => !o)} title="Problems in the project's files" data-testid="problems-button" aria-expanded={open}>
        <span className={errors > 0 ? 'problems-errors' : ''}>⊗ {errors}</span> <span className={warnings > 0 ? 'problems-warnings' : ''}>⚠ {warnings}</span>
      </button>
      {open && (
        <div className="problems-panel" role="dialog" aria-label="Problems" data-testid="problems-panel">
          <div className="ide-section-head"><span>Problems</span><span className="spacer" /><span className="count">{problems.length}</span></div>
          {problems.length === 0 && <p className="muted small problems-empty">No problems in the project&apos;s JavaScript and TypeScript files.</p>}
          <ul>
            {[...byFile].map(([path, list]) => (
              <li key={path}>
                <div className="problems-file">{path} <span className="count">{list.length}</span></div>
                <ul>
                  {list.map((p, i) => (
                    <li key={i}>
                      <button
                        className={`problem problem-${p.severity}`}
                        data-testid="problem"
                        onClick={() => {
                          const fileId = navigation.fileIdAt(p.path);
                          if (fileId) navigation.openAt(fileId, p.line, p.column);
                          setOpen(false);
                        }}
                      >
                        <span className="problem-icon">{p.severity === 'error' ? '⊗' : p.severity === 'warning' ? '⚠' : 'ℹ'}</span>
                        <span className="problem-message">{p.message}</span>
                        <span className="muted small problem-where">{p.source} [{p.line}, {p.column}]</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

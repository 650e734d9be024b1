'use client';
import { useEffect, useRef, useState } from 'react';
import { baseName, type TreeEntries } from '@/lib/ide/fileTree';
import { CloseIcon } from './Icons';

export interface EditorTabsProps {
  openFiles: string[];
  activeFile: string | null;
  entries: TreeEntries;
  onSelect(fileId: string): void;
  onClose(fileId: string): void;
  /** Buttons for the active file (e.g. Markdown preview), at the right of the tab bar. */
  actions?: React.ReactNode;
}

/** Open files as tabs; they scroll sideways, and a menu lists them all once they overflow. */
export function EditorTabs({ openFiles, activeFile, entries, onSelect, onClose, actions }: EditorTabsProps) {
  const strip = useRef<HTMLDivElement>(null);
  const [overflowing, setOverflowing] = useState(false);
  const [menuOpen, setMenuOpen] = useState(false);

  useEffect(() => {
    const el = strip.current;
    if (!el) return;
    const measure = () => setOverflowing(el.scrollWidth > el.clientWidth + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, [openFiles.length]);

  // The active tab is always visible.
  useEffect(() => {
    strip.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [activeFile, openFiles.length]);

  useEffect(() => {
    if (!menuOpen) return;
    const close = () => setMenuOpen(false);
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [menuOpen]);

  return (
    <div className="tabs-bar">
      <div className="tabs" role="tablist" aria-label="Open files" ref={strip}>
        {openFiles.map((id) => {
          const path = entries.get(id)?.path ?? '…';
          return (
            <div
              key={id}
              role="tab"
              aria-selected={id === activeFile}
              className={`tab ${id === activeFile ? 'active' : ''}`}
              data-testid="tab"
              data-path={path}
              title={path}
              onClick={() => onSelect(id)}
              onAuxClick={(e) => { if (e.button === 1) onClose(id); }}
            >
              <span className="tab-name">{baseName(path)}</span>
              <button className="icon tab-close" aria-label={`Close ${path}`} onClick={(e) => { e.stopPropagation(); onClose(id); }}>
                <CloseIcon size={12} />
              </button>
            </div>
          );
        })}
      </div>
      {actions}
      {overflowing && (
        <div className="tabs-overflow" onMouseDown={(e) => e.stopPropagation()}>
          <button className="icon tabs-overflow-button" aria-label="All open files" aria-expanded={menuOpen} onClick={() => setMenuOpen((o) => !o)} data-testid="tabs-overflow">⋯</button>
          {menuOpen && (
            <ul className="tabs-menu" role="menu">
              {openFiles.map((id) => (
                <li key={id} role="menuitem" className={id === activeFile ? 'active' : undefined} onClick={() => { setMenuOpen(false); onSelect(id); }}>
                  {entries.get(id)?.path ?? '…'}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

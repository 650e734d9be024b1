'use client';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { IdeCommand } from '@/lib/ide/CommandRegistry';
import { rankByFuzzy } from '@/lib/ide/fuzzyMatch';

export type PaletteMode = 'files' | 'commands';

export interface PaletteFile {
  id: string;
  path: string;
}

export interface CommandPaletteProps {
  mode: PaletteMode;
  /** Files, most recently opened first. */
  files: readonly PaletteFile[];
  commands: readonly IdeCommand[];
  onOpenFile(id: string): void;
  onClose(): void;
}

const MAX_ROWS = 50;

/**
 * Quick open (Ctrl+P: fuzzy file names, recent first) and the command palette (Ctrl+Shift+P, or
 * `>` typed in quick open), as in VS Code: ↑/↓ choose, Enter runs, Esc closes.
 */
export function CommandPalette({ mode: initialMode, files, commands, onOpenFile, onClose }: CommandPaletteProps) {
  const [text, setText] = useState(initialMode === 'commands' ? '>' : '');
  const [selected, setSelected] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const mode: PaletteMode = text.startsWith('>') ? 'commands' : 'files';
  const query = mode === 'commands' ? text.slice(1).trim() : text.trim();

  const rows = useMemo(() => {
    if (mode === 'files') {
      return rankByFuzzy(files, query, (f) => f.path, MAX_ROWS).map(({ item, match }) => ({
        key: item.id, label: item.path, indexes: match.indexes, hint: undefined as string | undefined, enabled: true,
        run: () => onOpenFile(item.id),
      }));
    }
    return rankByFuzzy(commands, query, (c) => c.label, MAX_ROWS).map(({ item, match }) => ({
      key: item.id, label: item.label, indexes: match.indexes,
      hint: item.enabled === false ? item.disabledReason : item.keybinding, enabled: item.enabled !== false,
      run: item.run,
    }));
  }, [mode, query, files, commands, onOpenFile]);

  useEffect(() => setSelected(0), [mode, query]);
  useEffect(() => input.current?.focus(), []);
  useEffect(() => {
    list.current?.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const choose = (index: number) => {
    const row = rows[index];
    if (!row || !row.enabled) return;
    onClose();
    row.run();
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const step = e.key === 'ArrowDown' ? 1 : -1;
      setSelected((s) => (rows.length === 0 ? 0 : (s + step + rows.length) % rows.length));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      choose(selected);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  };

  return (
    <div className="palette-backdrop" onMouseDown={onClose} data-testid="palette">
      <div className="palette" data-mode={mode} role="dialog" aria-label={mode === 'files' ? 'Go to file' : 'Command palette'} onMouseDown={(e) => e.stopPropagation()}>
        <input
          ref={input}
          className="palette-input"
          value={text}
          placeholder={mode === 'files' ? 'Go to file by name (type > for commands)' : 'Type a command'}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-autocomplete="list"
          spellCheck={false}
          data-testid="palette-input"
        />
        <ul className="palette-list" id="palette-list" role="listbox" ref={list}>
          {rows.map((row, i) => (
            <li
              key={row.key}
              role="option"
              aria-selected={i === selected}
              aria-disabled={!row.enabled}
              className={`palette-row${i === selected ? ' selected' : ''}${row.enabled ? '' : ' disabled'}`}
              onMouseMove={() => setSelected(i)}
              onClick={() => choose(i)}
              data-testid="palette-row"
            >
              <Highlighted text={row.label} indexes={row.indexes} />
              {row.hint && <span className="palette-hint">{row.hint}</span>}
            </li>
          ))}
          {rows.length === 0 && <li className="palette-empty muted">{mode === 'files' ? 'No matching files' : 'No matching commands'}</li>}
        </ul>
      </div>
    </div>
  );
}

function Highlighted({ text, indexes }: { text: string; indexes: number[] }) {
  const marked = new Set(indexes);
  const parts: { text: string; hit: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const hit = marked.has(i);
    const last = parts[parts.length - 1];
    if (last && last.hit === hit) last.text += text[i];
    else parts.push({ text: text[i]!, hit });
  }
  return (
    <span className="palette-label">
      {parts.map((p, i) => (p.hit ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}

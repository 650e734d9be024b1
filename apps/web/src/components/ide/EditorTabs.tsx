'use client';
import { baseName, type TreeEntries } from '@/lib/ide/fileTree';
import { CloseIcon } from './Icons';

export interface EditorTabsProps {
  openFiles: string[];
  activeFile: string | null;
  entries: TreeEntries;
  onSelect(fileId: string): void;
  onClose(fileId: string): void;
}

export function EditorTabs({ openFiles, activeFile, entries, onSelect, onClose }: EditorTabsProps) {
  return (
    <div className="tabs" role="tablist" aria-label="Open files">
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
  );
}

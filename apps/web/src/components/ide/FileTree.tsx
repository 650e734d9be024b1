'use client';
import { useMemo, useState } from 'react';
import {
  baseName, buildFileTree, parentPath, planCreate, planDelete, planRename,
  type TreeEdit, type TreeEntries, type TreeNode, type TreePlan,
} from '@/lib/ide/fileTree';
import type { Participant } from '@/lib/ide/presence';
import { isImagePath } from '@tandem/protocol';
import { ChevronIcon, FileIcon, FilePlusIcon, FolderIcon, FolderPlusIcon, ImageIcon, PencilIcon, TrashIcon } from './Icons';

export interface FileTreeProps {
  entries: TreeEntries;
  /** False until the tree has been received from the server. */
  loaded: boolean;
  canEdit: boolean;
  activeFile: string | null;
  /** Other participants by the file they have open (coloured dots). */
  presence: ReadonlyMap<string, Participant[]>;
  onOpen(fileId: string): void;
  /** Applies an edit to the shared tree (one transaction). */
  onApply(edit: TreeEdit): void;
  /** Files dropped from the desktop onto the tree or a folder (`dir`: '' for the root). */
  onUpload?(files: File[], dir: string): void;
}

type Editing = { mode: 'create'; kind: 'file' | 'folder'; initial: string } | { mode: 'rename'; path: string } | null;

/** The shared file tree: every change goes through the tree document, so everyone sees it at once. */
export function FileTree({ entries, loaded, canEdit, activeFile, presence, onOpen, onApply, onUpload }: FileTreeProps) {
  const nodes = useMemo(() => buildFileTree(entries), [entries]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const activePath = activeFile ? entries.get(activeFile)?.path ?? null : null;

  const run = (plan: TreePlan, after?: () => void): boolean => {
    if (!plan.ok) {
      setError(plan.error);
      return false;
    }
    onApply(plan.edit);
    setError(null);
    after?.();
    return true;
  };

  const startCreate = (kind: 'file' | 'folder') => {
    const folder = activePath ? parentPath(activePath) : '';
    setEditing({ mode: 'create', kind, initial: folder ? folder + '/' : '' });
    setDeleting(null);
    setError(null);
  };

  const submitCreate = (kind: 'file' | 'folder', value: string) => {
    const id = crypto.randomUUID();
    run(planCreate(entries, value, kind, id), () => {
      setEditing(null);
      if (kind === 'file') onOpen(id);
    });
  };

  const toggle = (path: string) => setCollapsed((c) => {
    const next = new Set(c);
    if (!next.delete(path)) next.add(path);
    return next;
  });

  /** A drop onto `toFolder`: files from the desktop are uploaded there, a tree entry is moved there. */
  const drop = (e: React.DragEvent, toFolder: string) => {
    e.preventDefault();
    e.stopPropagation();
    const files = [...e.dataTransfer.files];
    if (files.length === 0) return move(e.dataTransfer.getData('text/x-tandem-path'), toFolder);
    setDropTarget(null);
    onUpload?.(files, toFolder);
  };

  const move = (from: string, toFolder: string) => {
    setDropTarget(null);
    if (from === toFolder || parentPath(from) === toFolder) return;
    run(planRename(entries, from, toFolder ? `${toFolder}/${baseName(from)}` : baseName(from)));
  };

  const renderNode = (node: TreeNode, depth: number): React.ReactNode => {
    const isFolder = node.kind === 'folder';
    const open = isFolder && !collapsed.has(node.path);
    const here = node.id ? presence.get(node.id) ?? [] : [];
    const renaming = editing?.mode === 'rename' && editing.path === node.path;
    const rowClass = ['tree-row', node.id && node.id === activeFile ? 'active' : '', dropTarget === node.path ? 'drop' : ''].join(' ');
    return (
      <li key={node.id ?? `folder:${node.path}`} role="treeitem" aria-expanded={isFolder ? open : undefined} aria-selected={node.id === activeFile}>
        {renaming ? (
          <PathInput
            depth={depth}
            initial={node.path}
            label={`New path for ${node.path}`}
            onCancel={() => { setEditing(null); setError(null); }}
            onSubmit={(value) => run(planRename(entries, node.path, value), () => setEditing(null))}
          />
        ) : (
          <div
            className={rowClass}
            style={{ paddingLeft: 8 + depth * 14 }}
            data-testid="tree-item"
            data-path={node.path}
            draggable={canEdit}
            onDragStart={(e) => { e.dataTransfer.setData('text/x-tandem-path', node.path); e.dataTransfer.effectAllowed = 'move'; }}
            onDragOver={isFolder && canEdit ? (e) => { e.preventDefault(); setDropTarget(node.path); } : undefined}
            onDragLeave={isFolder ? () => setDropTarget((t) => (t === node.path ? null : t)) : undefined}
            onDrop={isFolder && canEdit ? (e) => drop(e, node.path) : undefined}
            onClick={() => (isFolder ? toggle(node.path) : onOpen(node.id!))}
            tabIndex={0}
            onKeyDown={(e) => {
              if (e.target !== e.currentTarget) return;
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                if (isFolder) toggle(node.path);
                else onOpen(node.id!);
              } else if (e.key === 'F2' && canEdit) {
                setEditing({ mode: 'rename', path: node.path });
              } else if (e.key === 'Delete' && canEdit) {
                setDeleting(node.path);
              }
            }}
            title={node.path}
          >
            <span className="tree-chevron">{isFolder && <ChevronIcon open={open} size={12} />}</span>
            <span className="tree-icon">{isFolder ? <FolderIcon size={14} /> : node.binary && isImagePath(node.path) ? <ImageIcon size={14} /> : <FileIcon size={14} />}</span>
            <span className="tree-name">{node.name}</span>
            <span className="tree-presence">
              {here.map((p) => <span key={p.session} className="presence-dot" style={{ background: p.user.color }} title={`${p.user.name} is here`} />)}
            </span>
            {canEdit && (
              <span className="tree-actions">
                <button className="icon" aria-label={`Rename ${node.path}`} title="Rename or move" onClick={(e) => { e.stopPropagation(); setEditing({ mode: 'rename', path: node.path }); setDeleting(null); setError(null); }}>
                  <PencilIcon size={13} />
                </button>
                <button className="icon" aria-label={`Delete ${node.path}`} title="Delete" onClick={(e) => { e.stopPropagation(); setDeleting(node.path); setEditing(null); setError(null); }}>
                  <TrashIcon size={13} />
                </button>
              </span>
            )}
          </div>
        )}
        {deleting === node.path && (
          <div className="tree-confirm" style={{ paddingLeft: 8 + depth * 14 }} role="alertdialog" aria-label={`Delete ${node.path}`}>
            <span>{isFolder ? `Delete folder “${node.name}” and everything in it?` : `Delete “${node.name}”?`}</span>
            <button className="danger small-button" onClick={() => run(planDelete(entries, node.path), () => setDeleting(null))}>Delete</button>
            <button className="small-button" onClick={() => setDeleting(null)}>Cancel</button>
          </div>
        )}
        {open && node.children.length > 0 && <ul role="group">{node.children.map((c) => renderNode(c, depth + 1))}</ul>}
      </li>
    );
  };

  return (
    <section className="ide-section ide-files" aria-label="Files">
      <div className="ide-section-head">
        <span>Files</span>
        <span className="spacer" />
        <button className="icon" aria-label="New file" title={canEdit ? 'New file' : 'Viewers cannot change files'} disabled={!canEdit} onClick={() => startCreate('file')}>
          <FilePlusIcon />
        </button>
        <button className="icon" aria-label="New folder" title={canEdit ? 'New folder' : 'Viewers cannot change files'} disabled={!canEdit} onClick={() => startCreate('folder')}>
          <FolderPlusIcon />
        </button>
      </div>
      {editing?.mode === 'create' && (
        <PathInput
          depth={0}
          initial={editing.initial}
          label={editing.kind === 'file' ? 'New file path' : 'New folder path'}
          placeholder={editing.kind === 'file' ? 'src/new-file.ts' : 'src/components'}
          onCancel={() => { setEditing(null); setError(null); }}
          onSubmit={(value) => submitCreate(editing.kind, value)}
        />
      )}
      {error && <div className="tree-error" role="alert">{error}</div>}
      <div
        className={`tree-scroll ${dropTarget === '' ? 'drop' : ''}`}
        onDragOver={canEdit ? (e) => { e.preventDefault(); setDropTarget(''); } : undefined}
        onDrop={canEdit ? (e) => drop(e, '') : undefined}
        data-testid="tree-drop-zone"
      >
        {!loaded ? (
          <p className="muted small tree-empty">Loading files…</p>
        ) : nodes.length === 0 ? (
          <p className="muted small tree-empty">{canEdit ? 'No files yet. Create one with the buttons above, or upload files.' : 'This project has no files yet.'}</p>
        ) : (
          <ul role="tree" className="tree">{nodes.map((n) => renderNode(n, 0))}</ul>
        )}
      </div>
    </section>
  );
}

function PathInput({ depth, initial, label, placeholder, onSubmit, onCancel }: {
  depth: number; initial: string; label: string; placeholder?: string;
  onSubmit(value: string): void; onCancel(): void;
}) {
  const [value, setValue] = useState(initial);
  return (
    <form className="tree-input" style={{ paddingLeft: 8 + depth * 14 }} onSubmit={(e) => { e.preventDefault(); onSubmit(value); }}>
      <input
        autoFocus
        aria-label={label}
        placeholder={placeholder}
        value={value}
        spellCheck={false}
        onChange={(e) => setValue(e.target.value)}
        onKeyDown={(e) => { if (e.key === 'Escape') onCancel(); }}
        onFocus={(e) => {
          // Select the name part so typing replaces it, keeping the folder.
          const start = value.lastIndexOf('/') + 1;
          const dot = value.lastIndexOf('.');
          e.currentTarget.setSelectionRange(start, dot > start ? dot : value.length);
        }}
      />
    </form>
  );
}

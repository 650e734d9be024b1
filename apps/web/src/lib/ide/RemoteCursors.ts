import * as monaco from '@/lib/ide/monaco';
import { asPresenceUser, cursorHeadIndex, type FilePresence } from './presence';
import type { FileConnection } from './ProjectSession';

interface Label {
  widget: monaco.editor.IContentWidget;
  node: HTMLDivElement;
  position: monaco.IPosition;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

/**
 * A name label shows briefly when its cursor jumps (another line, a click) or when the pointer
 * hovers the caret, then fades: while someone types along a line it stays out of the way of the
 * code being written.
 */
const LABEL_IDLE_MS = 1500;
/** Moves along a line by at most this many columns count as typing, not a jump. */
const TYPING_COLUMNS = 2;

/**
 * Colours and name labels for other people's cursors in the active file. y-monaco draws each
 * remote selection with the classes `yRemoteSelection-<clientId>` / `yRemoteSelectionHead-<clientId>`;
 * this adds one CSS rule per client (their colour) and a content widget with their name at their
 * caret. The labels are real DOM nodes (`.remote-cursor-label`), which also makes them testable.
 */
export class RemoteCursors {
  private readonly style: HTMLStyleElement;
  private readonly styled = new Set<string>();
  private readonly labels = new Map<number, Label>();
  private file: FileConnection | null = null;
  private readonly listeners: monaco.IDisposable[];

  constructor(private readonly editor: monaco.editor.IStandaloneCodeEditor) {
    this.style = document.createElement('style');
    this.style.dataset.owner = 'remote-cursors';
    document.head.appendChild(this.style);
    this.listeners = [
      editor.onDidChangeModelContent(() => this.render()),
      editor.onMouseMove((e) => this.hover(e.target.position)),
    ];
  }

  /** Shows the cursors of `file` (the file now in the editor), or none. */
  attach(file: FileConnection | null): void {
    if (this.file === file) return;
    this.file?.awareness.off('change', this.render);
    this.file = file;
    file?.awareness.on('change', this.render);
    this.render();
  }

  dispose(): void {
    this.attach(null);
    for (const l of this.listeners) l.dispose();
    this.style.remove();
  }

  render = (): void => {
    const file = this.file;
    const model = this.editor.getModel();
    const seen = new Set<number>();
    if (file && model) {
      for (const [clientId, state] of file.awareness.getStates()) {
        if (clientId === file.doc.clientID) continue;
        const user = asPresenceUser((state as Partial<FilePresence>).user);
        const head = cursorHeadIndex((state as Partial<FilePresence>).selection?.head, file);
        if (!user || head === null) continue;
        this.ensureStyle(clientId, user.color);
        this.showLabel(clientId, user.name, user.color, model.getPositionAt(head));
        seen.add(clientId);
      }
    }
    for (const [clientId, label] of this.labels) {
      if (seen.has(clientId)) continue;
      if (label.idleTimer) clearTimeout(label.idleTimer);
      this.editor.removeContentWidget(label.widget);
      this.labels.delete(clientId);
    }
  };

  private hover(position: monaco.IPosition | null): void {
    if (!position) return;
    for (const label of this.labels.values()) {
      if (label.position.lineNumber === position.lineNumber && Math.abs(label.position.column - position.column) <= 1) this.wake(label);
    }
  }

  private wake(label: Label): void {
    label.node.classList.remove('idle');
    if (label.idleTimer) clearTimeout(label.idleTimer);
    label.idleTimer = setTimeout(() => label.node.classList.add('idle'), LABEL_IDLE_MS);
  }

  private showLabel(clientId: number, name: string, color: string, position: monaco.IPosition): void {
    const existing = this.labels.get(clientId);
    if (existing) {
      const before = existing.position;
      const moved = before.lineNumber !== position.lineNumber || before.column !== position.column;
      const jumped = before.lineNumber !== position.lineNumber || Math.abs(before.column - position.column) > TYPING_COLUMNS;
      existing.position = position;
      existing.node.textContent = name;
      if (jumped) this.wake(existing);
      if (moved) this.editor.layoutContentWidget(existing.widget);
      return;
    }
    const node = document.createElement('div');
    node.className = 'remote-cursor-label';
    node.textContent = name;
    node.style.background = color;
    const label: Label = {
      node,
      position,
      idleTimer: null,
      widget: {
        getId: () => `tandem.remote-cursor.${clientId}`,
        getDomNode: () => node,
        getPosition: () => ({
          position: label.position,
          preference: [monaco.editor.ContentWidgetPositionPreference.ABOVE, monaco.editor.ContentWidgetPositionPreference.BELOW],
        }),
      },
    };
    this.labels.set(clientId, label);
    this.editor.addContentWidget(label.widget);
    this.wake(label);
  }

  private ensureStyle(clientId: number, color: string): void {
    const key = `${clientId}:${color}`;
    if (this.styled.has(key)) return;
    this.styled.add(key);
    // Colours were validated (hsl(...) only) by asPresenceUser, so they are safe in a style sheet.
    this.style.append(
      `.yRemoteSelection-${clientId} { background-color: ${withAlpha(color, 0.28)}; }\n` +
      `.yRemoteSelectionHead-${clientId} { border-color: ${color}; }\n`,
    );
  }
}

function withAlpha(hsl: string, alpha: number): string {
  return hsl.replace(/\)$/, ` / ${alpha})`);
}

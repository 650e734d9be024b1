import * as monaco from '@/lib/ide/monaco';
import type * as Y from 'yjs';
import { resolveRange } from './anchors';
import { formatMetricsText } from './formatMetrics';
import { displayOf, type LiveSuggestion } from './ProjectSuggestions';
import type { AgentInlineChange } from '@/lib/agent/agentInlineChanges';

export interface DiffFile {
  fileId: string;
  doc: Y.Doc;
  text: Y.Text;
}

export interface InlineDiffActions {
  regenerate(id: string): void;
  cancel(id: string): void;
  /** Opens the review panel on this suggestion. */
  review(id: string): void;
}

interface ZoneSpec {
  key: string;
  afterLineNumber: number;
  heightInLines: number;
  className: string;
  render(dom: HTMLElement): void;
  margin?: (dom: HTMLElement) => void;
}

interface Zone {
  id: string;
  zone: monaco.editor.IViewZone;
  dom: HTMLElement;
  margin: HTMLElement;
  spec: ZoneSpec;
}

/**
 * Draws open suggestions over the code in Monaco, as everyone in the session sees them while they
 * stream and wait for review: removed lines get a red background and strike-through, added lines
 * appear below them in green view zones, and a header zone above the range names who asked which
 * model, with live TTFT and tokens/s. The suggestion is NOT in the document: only decorations and
 * view zones. Positions come from anchors (Yjs relative positions) resolved on this tab's copy, so
 * the diff stays on its code while people type elsewhere: while streaming, the range's; once
 * ready, each hunk's own. Code that no longer matches what a hunk (or, while streaming, the
 * range) was computed from is shown as stale instead — only that hunk's lines, the others stay
 * reviewable (the server confirms and says so to all).
 *
 * Renders at most once per animation frame; zones are updated in place (no flicker at 3,000 tok/s).
 */
export class InlineDiffDecorations {
  private file: DiffFile | null = null;
  private suggestions: readonly LiveSuggestion[] = [];
  private agentChanges: readonly AgentInlineChange[] = [];
  /** Our decorations and the model they are on (models outlive tab switches: clear them there). */
  private decorated: { model: monaco.editor.ITextModel; ids: string[] } | null = null;
  private zones = new Map<string, Zone>();
  private scheduled: number | null = null;
  private focused: { id: string; hunk: number | null } | null = null;
  private readonly onText = () => this.schedule();

  constructor(
    private readonly editor: monaco.editor.IStandaloneCodeEditor,
    private readonly actions: InlineDiffActions,
  ) {
  }

  /** The file now shown in the editor (call after its model was set), or null. */
  show(file: DiffFile | null): void {
    this.file?.text.unobserve(this.onText);
    this.file = file;
    file?.text.observe(this.onText);
    this.zones = new Map(); // a new model means a new view: Monaco dropped the old zones
    this.clearDecorations();
    this.schedule();
  }

  setSuggestions(list: readonly LiveSuggestion[]): void {
    this.suggestions = list;
    this.schedule();
  }

  /** The pending changes of an agent run, drawn like a suggestion's hunks. */
  setAgentChanges(list: readonly AgentInlineChange[]): void {
    this.agentChanges = list;
    this.schedule();
  }

  /** Highlights a hunk (keyboard navigation in the panel) and scrolls it into view. */
  focus(id: string | null, hunk: number | null): void {
    this.focused = id ? { id, hunk } : null;
    this.render();
    const line = this.focusedLine;
    if (line !== null) this.editor.revealLineInCenterIfOutsideViewport(line, monaco.editor.ScrollType.Smooth);
  }

  dispose(): void {
    if (this.scheduled !== null) cancelAnimationFrame(this.scheduled);
    this.file?.text.unobserve(this.onText);
    this.clearDecorations();
    this.editor.changeViewZones((accessor) => {
      for (const z of this.zones.values()) accessor.removeZone(z.id);
    });
    this.zones.clear();
  }

  private focusedLine: number | null = null;

  private schedule(): void {
    if (this.scheduled !== null) return;
    this.scheduled = requestAnimationFrame(() => {
      this.scheduled = null;
      this.render();
    });
  }

  private render(): void {
    const file = this.file;
    const model = this.editor.getModel();
    const decorations: monaco.editor.IModelDeltaDecoration[] = [];
    const zones: ZoneSpec[] = [];
    this.focusedLine = null;
    if (file && model) {
      for (const s of this.suggestions) {
        if (s.fileId === file.fileId) this.layout(s, file, model, decorations, zones);
      }
      for (const c of this.agentChanges) {
        if (c.fileId === file.fileId) this.layoutAgent(c, file, model, decorations, zones);
      }
    }
    if (this.decorated && this.decorated.model !== model) this.clearDecorations();
    // Owned by this editor: another editor group showing the same model draws its own.
    if (model) this.decorated = { model, ids: this.editor.deltaDecorations(this.decorated?.ids ?? [], decorations) };
    this.applyZones(zones);
  }

  private clearDecorations(): void {
    const { model, ids } = this.decorated ?? {};
    if (model && ids && !model.isDisposed()) model.deltaDecorations(ids, []);
    this.decorated = null;
  }

  private layout(s: LiveSuggestion, file: DiffFile, model: monaco.editor.ITextModel, decorations: monaco.editor.IModelDeltaDecoration[], zones: ZoneSpec[]): void {
    const range = resolveRange(file.doc, s.anchor);
    if (range === 'not-synced') return; // this copy has not received the code yet
    if (range === 'deleted') return; // the server turns it into a conflict for everyone
    const startPos = model.getPositionAt(range.start);
    const text = file.text.toString();
    // Once ready each hunk is checked on its own anchor below; before, the range must still hold the base.
    const stale = s.status === 'stale' || (s.status !== 'ready' && text.slice(range.start, range.end) !== s.baseText);
    const isFocused = this.focused?.id === s.id;
    zones.push(this.header(s, startPos.lineNumber - 1, stale));
    if (isFocused && this.focused!.hunk === null) this.focusedLine = startPos.lineNumber;
    if (stale) return staleLines(model, range, decorations);
    displayOf(s).forEach((h, n) => {
      let at = range.start;
      const focused = isFocused && h.index !== null && this.focused!.hunk === h.index;
      if (h.hunkAnchor) {
        const own = resolveRange(file.doc, h.hunkAnchor);
        if (own === 'not-synced' || own === 'deleted') return;
        if (h.stale || text.slice(own.start, own.end) !== h.hunkAnchor.text) {
          const first = model.getPositionAt(own.start).lineNumber;
          decorations.push({
            range: new monaco.Range(first, 1, model.getPositionAt(Math.max(own.start, own.end - 1)).lineNumber, 1),
            options: { isWholeLine: true, className: `tdm-stale-line${focused ? ' tdm-focused' : ''}`, linesDecorationsClassName: 'tdm-stale-gutter', hoverMessage: { value: 'Edited since the AI proposed this change: it will not be applied.' } },
          });
          if (focused) this.focusedLine = first;
          return;
        }
        at = own.start;
      }
      const line = this.hunk(`${s.id}:ins:${n}`, model, at + h.start, at + h.end, h.inserted, focused, s.status === 'streaming', decorations, zones);
      if (focused) this.focusedLine = line;
    });
  }

  private layoutAgent(c: AgentInlineChange, file: DiffFile, model: monaco.editor.ITextModel, decorations: monaco.editor.IModelDeltaDecoration[], zones: ZoneSpec[]): void {
    if (!c.anchor) {
      if (c.header) zones.push(this.agentHeader(c, 0));
      return;
    }
    const range = resolveRange(file.doc, c.anchor);
    if (range === 'not-synced' || range === 'deleted') return;
    const stale = c.stale || file.text.toString().slice(range.start, range.end) !== c.removed;
    if (c.header) zones.push(this.agentHeader(c, model.getPositionAt(range.start).lineNumber - 1, stale));
    if (stale) return staleLines(model, range, decorations);
    this.hunk(`${c.key}:ins`, model, range.start, range.end, c.inserted, false, c.header?.live ?? false, decorations, zones);
  }

  /**
   * One hunk: the removed text `from`–`to` struck through on red lines, the inserted lines in a
   * green zone below them. Returns the line to reveal for it.
   */
  private hunk(key: string, model: monaco.editor.ITextModel, from: number, to: number, inserted: string, focused: boolean, streaming: boolean,
    decorations: monaco.editor.IModelDeltaDecoration[], zones: ZoneSpec[]): number {
    const a = model.getPositionAt(from);
    if (to > from) {
      const lastLine = model.getPositionAt(to - 1).lineNumber;
      decorations.push({
        range: new monaco.Range(a.lineNumber, 1, lastLine, 1),
        options: { isWholeLine: true, className: `tdm-del-line${focused ? ' tdm-focused' : ''}`, linesDecorationsClassName: 'tdm-del-gutter' },
      });
      const b = model.getPositionAt(to);
      decorations.push({ range: new monaco.Range(a.lineNumber, a.column, b.lineNumber, b.column), options: { inlineClassName: 'tdm-del-text' } });
    }
    const after = to > from ? model.getPositionAt(to - 1).lineNumber : a.column === 1 ? a.lineNumber - 1 : a.lineNumber;
    const lines = splitLines(inserted);
    if (lines.length > 0) zones.push(this.insertion(key, after, lines, focused, streaming));
    return Math.max(1, to > from ? a.lineNumber : after);
  }

  private header(s: LiveSuggestion, afterLineNumber: number, stale: boolean): ZoneSpec {
    return {
      key: `${s.id}:header`,
      afterLineNumber: Math.max(0, afterLineNumber),
      heightInLines: 2.7,
      className: `tdm-suggestion-header tdm-status-${stale ? 'stale' : s.status}`,
      render: (dom) => renderHeader(dom, s, stale, this.actions),
    };
  }

  private agentHeader(c: AgentInlineChange, afterLineNumber: number, stale = false): ZoneSpec {
    return {
      key: `${c.key}:header`,
      afterLineNumber: Math.max(0, afterLineNumber),
      heightInLines: 1.7,
      className: `tdm-suggestion-header tdm-agent-header tdm-status-${stale ? 'stale' : c.header!.live ? 'streaming' : 'ready'}`,
      render: (dom) => renderAgentHeader(dom, c, stale),
    };
  }

  private insertion(key: string, afterLineNumber: number, lines: string[], focused: boolean, streaming: boolean): ZoneSpec {
    return {
      key,
      afterLineNumber,
      heightInLines: lines.length,
      className: `tdm-insertion${focused ? ' tdm-focused' : ''}${streaming ? ' tdm-streaming' : ''}`,
      render: (dom) => {
        const font = this.editor.getOption(monaco.editor.EditorOption.fontInfo);
        dom.style.fontFamily = font.fontFamily;
        dom.style.fontSize = `${font.fontSize}px`;
        dom.style.lineHeight = `${font.lineHeight}px`;
        syncChildren(dom, lines, 'tdm-add-line');
      },
      margin: (dom) => syncChildren(dom, lines.map(() => '+'), 'tdm-add-gutter'),
    };
  }

  /** Adds, moves, resizes, updates or removes zones so they match `specs`, reusing DOM by key. */
  private applyZones(specs: ZoneSpec[]): void {
    const wanted = new Map(specs.map((s) => [s.key, s]));
    this.editor.changeViewZones((accessor) => {
      for (const [key, z] of this.zones) {
        if (wanted.has(key)) continue;
        accessor.removeZone(z.id);
        this.zones.delete(key);
      }
      for (const spec of specs) {
        const existing = this.zones.get(spec.key);
        if (existing) {
          existing.dom.className = spec.className;
          spec.render(existing.dom);
          spec.margin?.(existing.margin);
          if (existing.zone.afterLineNumber !== spec.afterLineNumber || existing.zone.heightInLines !== spec.heightInLines) {
            existing.zone.afterLineNumber = spec.afterLineNumber;
            existing.zone.heightInLines = spec.heightInLines;
            accessor.layoutZone(existing.id);
          }
          existing.spec = spec;
          continue;
        }
        const dom = document.createElement('div');
        dom.className = spec.className;
        spec.render(dom);
        const margin = document.createElement('div');
        margin.className = 'tdm-zone-margin';
        spec.margin?.(margin);
        const zone: monaco.editor.IViewZone = { afterLineNumber: spec.afterLineNumber, heightInLines: spec.heightInLines, domNode: dom, marginDomNode: margin };
        const id = accessor.addZone(zone);
        this.zones.set(spec.key, { id, zone, dom, margin, spec });
      }
    });
  }
}

function staleLines(model: monaco.editor.ITextModel, range: { start: number; end: number }, decorations: monaco.editor.IModelDeltaDecoration[]): void {
  const startLine = model.getPositionAt(range.start).lineNumber;
  const endLine = model.getPositionAt(Math.max(range.start, range.end - 1)).lineNumber;
  decorations.push({
    range: new monaco.Range(startLine, 1, endLine, 1),
    options: { isWholeLine: true, className: 'tdm-stale-line', linesDecorationsClassName: 'tdm-stale-gutter' },
  });
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Keeps one child per line with the given text (updating in place: cheap while streaming). */
function syncChildren(dom: HTMLElement, lines: readonly string[], className: string): void {
  while (dom.childElementCount > lines.length) dom.lastElementChild!.remove();
  lines.forEach((line, i) => {
    let child = dom.children[i] as HTMLElement | undefined;
    if (!child) {
      child = document.createElement('div');
      child.className = className;
      dom.appendChild(child);
    }
    if (child.textContent !== line) child.textContent = line === '' ? '\u200b' : line;
  });
}

const STATUS_LABEL: Record<string, string> = {
  requested: 'waiting for the model…',
  streaming: 'streaming…',
  ready: 'ready for review',
  stale: 'stale: the code changed',
};

/** The header zone: who asked which model what, status, live metrics, and the actions that fit the status. */
function renderHeader(dom: HTMLElement, s: LiveSuggestion, stale: boolean, actions: InlineDiffActions): void {
  const staleHunks = s.hunks.filter((h) => h.stale).length;
  const key = JSON.stringify([s.status, stale, s.metrics, s.requester.name, s.model, s.instruction, s.hunks.length, staleHunks]);
  if (dom.dataset.key === key) return;
  dom.dataset.key = key;
  dom.dataset.testid = 'inline-suggestion';
  dom.dataset.status = stale ? 'stale' : s.status;
  dom.dataset.suggestion = s.id;
  dom.replaceChildren();
  const card = el('div', 'tdm-header-card');
  const line = el('div', 'tdm-header-line');
  line.append(
    el('span', 'tdm-spark', '✦'),
    el('strong', 'tdm-who', s.requester.name),
    el('span', 'tdm-muted', 'asked'),
    el('span', 'tdm-model', s.model),
    el('span', `tdm-chip tdm-chip-${stale ? 'stale' : s.status}`, stale ? STATUS_LABEL.stale! : s.status === 'ready' ? readyLabel(s.hunks.length, staleHunks) : STATUS_LABEL[s.status] ?? s.status),
    el('span', 'tdm-metrics', formatMetricsText(s.metrics)),
  );
  card.append(line, el('div', 'tdm-header-quote', `“${s.instruction}”`));
  const button = (label: string, onClick: () => void) => {
    const b = el('button', 'tdm-zone-button', label) as HTMLButtonElement;
    b.type = 'button';
    b.addEventListener('mousedown', (e) => e.stopPropagation());
    b.addEventListener('click', (e) => {
      e.stopPropagation();
      onClick();
    });
    return b;
  };
  line.append(el('span', 'tdm-grow'));
  if (stale) line.append(button('Regenerate on current code', () => actions.regenerate(s.id)));
  if (s.status === 'requested' || s.status === 'streaming') line.append(button('Cancel', () => actions.cancel(s.id)));
  if (s.status === 'ready' && !stale) line.append(button('Review', () => actions.review(s.id)));
  dom.append(card);
}

function readyLabel(hunks: number, stale: number): string {
  return `${hunks} hunk${hunks === 1 ? '' : 's'} to review${stale > 0 ? ` · ${stale} stale` : ''}`;
}

/** The card above an agent run's first change in the file: whose run, the task, what is pending. */
function renderAgentHeader(dom: HTMLElement, c: AgentInlineChange, stale: boolean): void {
  const h = c.header!;
  const key = JSON.stringify([h, stale]);
  if (dom.dataset.key === key) return;
  dom.dataset.key = key;
  dom.dataset.testid = 'inline-agent-change';
  dom.dataset.run = h.runId;
  dom.replaceChildren();
  const card = el('div', 'tdm-header-card');
  const line = el('div', 'tdm-header-line');
  line.append(
    el('span', 'tdm-spark', '✦'),
    el('strong', '', 'Agent'),
    el('span', 'tdm-header-quote', `“${h.task}”`),
    el('span', `tdm-chip tdm-chip-${stale ? 'stale' : h.live ? 'streaming' : 'ready'}`, stale ? STATUS_LABEL.stale! : h.label),
  );
  card.append(line);
  dom.append(card);
}

function el(tag: string, className: string, text?: string): HTMLElement {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

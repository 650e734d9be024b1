import * as monaco from '@/lib/ide/monaco';
import type { AuthorView, BlameRangeView } from '@tandem/api';
import { relative } from './relativeTime';

export type BlameMode = 'off' | 'all' | 'ai';

/** Hues people's blame bars take (by user id), so one person keeps one colour across files. */
const PERSON_CLASSES = 8;

/**
 * Blame drawn in the editor: a coloured bar beside each range's lines (one colour per person,
 * violet for AI-written text), the author and time after the range's first line, and details on
 * hover (for AI text: model, provider, who asked, who accepted). `ai` mode draws AI ranges only.
 */
export class BlameDecorations {
  readonly #decorations: monaco.editor.IEditorDecorationsCollection;
  /**
   * The notes' text, as CSS `content` of generated classes (Monaco's injected text did not render
   * in the standalone editor): one rule per distinct note, so a file costs a few rules.
   */
  readonly #style = document.createElement('style');
  readonly #notes = new Map<string, string>();

  constructor(private readonly editor: monaco.editor.IStandaloneCodeEditor) {
    this.#decorations = editor.createDecorationsCollection();
    document.head.appendChild(this.#style);
  }

  #noteClass(text: string): string {
    let name = this.#notes.get(text);
    if (!name) {
      name = `blame-note-${this.#notes.size}`;
      this.#notes.set(text, name);
      this.#style.sheet?.insertRule(`.monaco-editor .${name}::after { content: ${JSON.stringify(`   ${text}`)}; }`);
    }
    return name;
  }

  show(ranges: readonly BlameRangeView[], mode: BlameMode, now = Date.now()): void {
    const model = this.editor.getModel();
    if (!model || mode === 'off') return this.#decorations.clear();
    const lines = model.getLineCount();
    const out: monaco.editor.IModelDeltaDecoration[] = [];
    for (const r of ranges) {
      const ai = r.author?.kind === 'ai' || r.aiChars > 0;
      if (mode === 'ai' && !ai) continue;
      const from = Math.min(r.fromLine, lines);
      const to = Math.min(r.toLine, lines);
      const hover = { value: describe(r, now), isTrusted: false };
      out.push({
        range: new monaco.Range(from, 1, to, model.getLineMaxColumn(to)),
        options: {
          isWholeLine: true,
          linesDecorationsClassName: `blame-bar ${barClass(r.author, ai)}`,
          className: ai ? 'blame-ai-lines' : undefined,
          hoverMessage: hover,
        },
      });
      out.push({
        range: new monaco.Range(from, 1, from, model.getLineMaxColumn(from)),
        options: { afterContentClassName: `blame-note ${ai ? 'blame-note-ai ' : ''}${this.#noteClass(headline(r, now))}`, showIfCollapsed: true },
      });
    }
    this.#decorations.set(out);
  }

  dispose(): void {
    this.#decorations.clear();
    this.#style.remove();
  }
}

function barClass(author: AuthorView | null, ai: boolean): string {
  if (ai) return 'blame-c-ai';
  if (author?.kind !== 'person') return 'blame-c-none';
  let h = 0;
  for (const ch of author.user.id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return `blame-c${h % PERSON_CLASSES}`;
}

function who(author: AuthorView | null): string {
  if (author === null) return 'Unknown (before history)';
  if (author.kind === 'person') return author.user.name;
  if (author.kind === 'ai') return `AI · ${author.model}`;
  return author.source ? `Tandem (${author.source})` : 'Tandem';
}

function headline(r: BlameRangeView, now: number): string {
  return r.at ? `${who(r.author)}, ${relative(Date.parse(r.at), now)}` : who(r.author);
}

function describe(r: BlameRangeView, now: number): string {
  const lines = r.fromLine === r.toLine ? `Line ${r.fromLine}` : `Lines ${r.fromLine}–${r.toLine}`;
  const when = r.at ? `${new Date(r.at).toLocaleString()} (${relative(Date.parse(r.at), now)})` : 'time unknown';
  const a = r.author;
  const parts = [`**${escape(who(a))}** · ${when}`, lines];
  if (a?.kind === 'ai') {
    parts.push(`Model **${escape(a.model)}** (${escape(a.provider)})`);
    parts.push(`Asked by ${escape(a.requestedBy?.name ?? 'unknown')} · accepted by ${escape(a.approvedBy?.name ?? 'unknown')}`);
    parts.push(a.agentRunId ? 'Agent run' : 'AI edit');
  } else if (r.aiChars > 0) {
    parts.push(`${r.aiChars} of ${r.chars} characters written by AI`);
  }
  return parts.join('\n\n');
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

import type { InferenceRequest, ProviderInfo } from '@tandem/inference';

/** What the browser sends about the cursor: already trimmed to its budget, trimmed again here. */
export interface CompletionContext {
  path: string;
  language: string;
  /** Text before the cursor (the end of it matters most). */
  prefix: string;
  /** Text after the cursor (the start of it matters most). */
  suffix: string;
  /** A few lines from other open files, most relevant first. */
  related: readonly { path: string; text: string }[];
}

/**
 * Server-side budget, in characters (~3.5 characters per token for code): ~1,700 tokens of
 * prefix, ~600 of suffix, ~500 of other files. Small prompts keep TTFT low; the browser trims
 * to the same budget so it never uploads more than this.
 */
export const COMPLETION_BUDGET = { prefixChars: 6000, suffixChars: 2000, relatedChars: 1800, relatedFiles: 3 } as const;

const LINE_COMMENT: Record<string, string> = {
  javascript: '//', typescript: '//', java: '//', c: '//', cpp: '//', csharp: '//', go: '//', rust: '//',
  swift: '//', kotlin: '//', scala: '//', php: '//', dart: '//', scss: '//', less: '//',
  python: '#', shell: '#', ruby: '#', perl: '#', r: '#', yaml: '#', dockerfile: '#', makefile: '#', toml: '#', ini: '#',
  sql: '--', lua: '--', haskell: '--',
};

const SYSTEM_PROMPT = [
  'You are an inline code completion engine inside an editor.',
  'Reply with ONLY the text to insert at <|cursor|>: no explanation, no Markdown fences,',
  'and do not repeat text that is already before or after the cursor.',
  'Complete the current statement or block; stop where the following text takes over.',
].join(' ');

export function trimToBudget(context: CompletionContext): CompletionContext {
  const b = COMPLETION_BUDGET;
  let relatedLeft = b.relatedChars;
  const related: { path: string; text: string }[] = [];
  for (const r of context.related.slice(0, b.relatedFiles)) {
    if (relatedLeft <= 0) break;
    const text = r.text.slice(0, relatedLeft);
    relatedLeft -= text.length;
    related.push({ path: r.path, text });
  }
  return {
    path: context.path,
    language: context.language,
    prefix: context.prefix.slice(-b.prefixChars),
    suffix: context.suffix.slice(0, b.suffixChars),
    related,
  };
}

/**
 * Builds the provider request: fill-in-the-middle when the provider supports it (the model sees
 * the real prefix and suffix, best quality and latency), otherwise a chat request that marks
 * the cursor. The file path and other files go in as comments (FIM) or as message text (chat).
 */
export function completionRequest(raw: CompletionContext, provider: ProviderInfo, maxTokens: number): InferenceRequest {
  const context = trimToBudget(raw);
  if (provider.fim) {
    return { mode: 'fim', prefix: fimHeader(context) + context.prefix, suffix: context.suffix, maxTokens, temperature: 0.2 };
  }
  const others = context.related.map((r) => `--- ${r.path} ---\n${r.text}`).join('\n');
  const user = [
    `File: ${context.path} (${context.language})`,
    ...(others ? ['Other open files (excerpts):', others] : []),
    'Complete the code at <|cursor|>:',
    context.prefix + '<|cursor|>' + context.suffix,
  ].join('\n\n');
  return { mode: 'chat', messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: user }], maxTokens, temperature: 0.2 };
}

/** `// Path: src/a.ts` plus commented excerpts of other files, for languages with line comments. */
function fimHeader(context: CompletionContext): string {
  const c = LINE_COMMENT[context.language];
  if (!c) return '';
  const lines = [`${c} Path: ${context.path}`];
  for (const r of context.related) {
    lines.push(`${c} Compare this snippet from ${r.path}:`);
    for (const line of r.text.split('\n')) lines.push(`${c} ${line}`);
  }
  return lines.join('\n') + '\n';
}

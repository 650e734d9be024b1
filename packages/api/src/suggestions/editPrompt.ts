import { AppError } from '@tandem/protocol';
import type { ChatRequest } from '@tandem/inference';

/**
 * The chat request for an AI edit: the selected code, some code around it for context, and the
 * instruction. The model is asked for the replacement code only; a Markdown fence it adds
 * anyway is stripped while streaming (FenceStripper).
 */
export const EDIT_LIMITS = {
  /** Largest selection an edit may rewrite (the output has to fit the token budget too). */
  maxSelectionChars: 48_000,
  maxInstructionChars: 2_000,
  /** Context around the selection, in characters (~3.5 per token): small prompts keep TTFT low. */
  beforeChars: 4_000,
  afterChars: 2_000,
  maxTokens: 8_192,
} as const;

export interface EditPromptInput {
  path: string;
  language: string;
  instruction: string;
  /** Text before and after the selected range, untrimmed. */
  before: string;
  selected: string;
  after: string;
}

const SYSTEM_PROMPT = [
  'You edit code inside a collaborative editor.',
  'You get a file excerpt with the SELECTED code and an instruction.',
  'Reply with ONLY the code that replaces the selected code: no explanation, no Markdown fences,',
  'nothing from before or after the selection. Keep its indentation and style.',
  'If the selection is empty, reply with the code to insert at that point.',
].join(' ');

export function editRequest(input: EditPromptInput): ChatRequest {
  if (input.selected.length > EDIT_LIMITS.maxSelectionChars) {
    throw new AppError('TOO_LARGE', `Select at most ${EDIT_LIMITS.maxSelectionChars.toLocaleString('en-US')} characters for an AI edit.`);
  }
  const before = tailAtLine(input.before, EDIT_LIMITS.beforeChars);
  const after = headAtLine(input.after, EDIT_LIMITS.afterChars);
  const user = [
    `File: ${input.path} (${input.language})`,
    `Code before the selection:\n<before>\n${before}</before>`,
    `SELECTED code:\n<selected>\n${input.selected}</selected>`,
    `Code after the selection:\n<after>\n${after}</after>`,
    `Instruction: ${input.instruction}`,
    'Reply with the replacement for the SELECTED code only.',
  ].join('\n\n');
  return {
    mode: 'chat',
    messages: [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: user }],
    maxTokens: tokenBudget(input.selected),
    temperature: 0.2,
  };
}

/** Room for a rewrite about twice the selection's size (~3 characters per token), at least 512 tokens. */
export function tokenBudget(selected: string): number {
  return Math.min(EDIT_LIMITS.maxTokens, Math.max(512, Math.ceil((selected.length * 2) / 3)));
}

/**
 * The streamed code made final. Models often drop (or add) the final newline of a selection of
 * whole lines; matching the base's ending keeps that from showing up as a changed last line.
 */
export function finalCode(streamed: string, baseText: string): string {
  const baseEndsWithNewline = baseText.endsWith('\n');
  if (baseEndsWithNewline && streamed.length > 0 && !streamed.endsWith('\n')) return streamed + '\n';
  if (!baseEndsWithNewline && baseText.length > 0 && streamed.endsWith('\n')) return streamed.slice(0, -1);
  return streamed;
}

function tailAtLine(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(-max);
  const newline = cut.indexOf('\n');
  return newline === -1 ? cut : cut.slice(newline + 1);
}

function headAtLine(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const newline = cut.lastIndexOf('\n');
  return newline === -1 ? cut : cut.slice(0, newline + 1);
}

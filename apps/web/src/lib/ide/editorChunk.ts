/**
 * Everything that needs Monaco, behind one lazy import: the workspace loads this chunk for its
 * editors, and the features that draw in them (AI edits, completions, blame) take their classes
 * from it. One entry point means one chunk group: each separate `import()` of Monaco-based code
 * got its own chunk with its own copy of the modules they share (monaco.ts's language
 * registrations), ~4 KiB gzipped each.
 */
export { default as CodeEditor } from '@/components/ide/CodeEditor';
export { ProjectEditors } from './ProjectEditors';
export { InlineDiffDecorations } from '@/lib/review/InlineDiffDecorations';
export { InlineCompletionController } from '@/lib/ai/InlineCompletionController';
export { BlameDecorations } from '@/lib/history/BlameDecorations';
export { KeyCode, KeyMod } from './monaco';


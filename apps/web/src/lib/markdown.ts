/**
 * Markdown rendering for the IDE's preview. Monaco ships marked 14.0.0 and DOMPurify 3.4.15 (for
 * its hovers), the versions this app pins: the preview uses Monaco's copies, already loaded with
 * the editor, instead of downloading both libraries a second time (~21 KiB gzipped). Their types
 * are the npm packages' (monacoVendored.d.ts).
 */
export { marked } from 'monaco-editor/base/common/marked/marked.js';
export { default as DOMPurify } from 'monaco-editor/base/browser/dompurify/dompurify.js';

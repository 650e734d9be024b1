// Monaco's vendored copies of marked and DOMPurify have no type declarations of their own: they
// are the same versions as the npm packages (see markdown.ts), whose types describe them.
declare module 'monaco-editor/base/common/marked/marked.js' {
  export { marked } from 'marked';
}
declare module 'monaco-editor/base/browser/dompurify/dompurify.js' {
  export { default } from 'dompurify';
}

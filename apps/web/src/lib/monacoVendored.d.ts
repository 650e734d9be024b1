// Monaco's vendored copies of marked and DOMPurify have no type declarations of their own: they
// are the same versions as the npm packages (see markdown.ts), whose types describe them.
declare module 'monaco-editor/base/common/marked/marked.js' {
  export { marked } from 'marked';
}
declare module 'monaco-editor/base/browser/dompurify/dompurify.js' {
  export { default } from 'dompurify';
}

// Monaco internals the IDE builds on (ide/monacoUnused.ts, ide/inlineCompletionsFeature.ts); Monaco ships no types for them.
declare module 'monaco-editor/base/browser/fastDomNode.js' {
  export interface FastDomNode<T extends HTMLElement> {
    readonly domNode: T;
  }
  export function createFastDomNode<T extends HTMLElement>(domNode: T): FastDomNode<T>;
}
declare module 'monaco-editor/editor/browser/view/viewPart.js' {
  export abstract class ViewPart {
    constructor(context: unknown);
    dispose(): void;
  }
}
declare module 'monaco-editor/editor/browser/editorExtensions.js' {
  export const EditorExtensionsRegistry: { getEditorContributions(): { id: string }[] };
}
declare module 'monaco-editor/editor/contrib/inlineCompletions/browser/inlineCompletions.contribution.js';
declare module 'monaco-editor/editor/standalone/browser/quickInput/standaloneQuickInputService.js' {
  export const StandaloneQuickInputService: new (...args: never[]) => unknown;
}
declare module 'monaco-editor/editor/browser/services/codeEditorService.js' {
  export const ICodeEditorService: (target: object, key: undefined, index: number) => void;
}
declare module 'monaco-editor/platform/instantiation/common/instantiation.js' {
  export const IInstantiationService: (target: object, key: undefined, index: number) => void;
}

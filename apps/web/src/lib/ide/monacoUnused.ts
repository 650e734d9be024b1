/**
 * Stands in for the parts of Monaco the IDE never runs (next.config.ts aliases each module here),
 * so they stay out of the download (~70 KiB gzipped together). Each is imported unconditionally by
 * code the IDE does use, but only constructed for something the IDE never asks for:
 * - the diff editors (`createDiffEditor`, `createMultiFileDiffEditor`): reviews, time travel and
 *   checkpoints show their changes as decorations and hunks, never in a Monaco diff editor;
 * - the WebGPU text renderer, used only with `experimentalGpuAcceleration: 'on'` (default 'off');
 * - the "next edit" views of inline completions, created only once a provider returns an inline
 *   edit (`isInlineEdit`); the IDE's completions are insertions at the cursor, shown as ghost text.
 * Constructing one of the first two says so instead of failing obscurely.
 */
import { createFastDomNode } from 'monaco-editor/base/browser/fastDomNode.js';
import { ViewPart } from 'monaco-editor/editor/browser/view/viewPart.js';

function unused(what: string): never {
  throw new Error(`${what} is not part of the Tandem IDE's editor (apps/web/src/lib/ide/monacoUnused.ts).`);
}

export class MultiDiffEditorWidget {
  constructor() {
    unused("Monaco's multi-file diff editor");
  }
}

export class DiffEditorWidget {
  constructor() {
    unused("Monaco's diff editor");
  }
}

export class ViewGpuContext {
  constructor() {
    unused("Monaco's GPU renderer (experimentalGpuAcceleration)");
  }
}
export class ViewLinesGpu extends ViewGpuContext {}
export class RulersGpu extends ViewGpuContext {}
export class GpuMarkOverlay extends ViewGpuContext {}

/** Shows no inline edit: the view reads `view` (none) and disposes it with the editor. */
export class InlineEditsViewAndDiffProducer {
  readonly view = undefined;
  dispose(): void {}
}

/** Tree-sitter highlighting: the standalone editor's tree-sitter service supports no language. */
export class TreeSitterSyntaxTokenBackend {
  constructor() {
    unused("Monaco's tree-sitter tokenizer");
  }
}

/**
 * The minimap, which the IDE's editors turn off (CodeEditor.tsx: `minimap: { enabled: false }`):
 * an empty view part where Monaco's view puts it, instead of its ~35 KiB renderer.
 */
export class Minimap extends ViewPart {
  readonly #node = createFastDomNode(document.createElement('div'));
  getDomNode() {
    return this.#node;
  }
  prepareRender(): void {}
  render(): void {}
}

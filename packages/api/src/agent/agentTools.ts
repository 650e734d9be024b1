import type { AcpToolKind } from '@tandem/protocol';
import type { ToolDefinition } from '@tandem/inference';
import { ToolError, type AgentWorkspace } from './AgentWorkspace.ts';

const str = (description: string) => ({ type: 'string', description });

/** The functions offered to the model (OpenAI `tools`). */
export const AGENT_TOOLS: readonly ToolDefinition[] = [
  { name: 'list_files', description: 'List the project\'s files (paths), optionally under a folder.', parameters: { type: 'object', properties: { folder: str('Folder to list, e.g. "src". Omit for all.') } } },
  { name: 'read_file', description: 'Read a file as it is now, including edits people made and your own pending changes.', parameters: { type: 'object', properties: { path: str('Project-relative path') }, required: ['path'] } },
  { name: 'search', description: 'Search file contents with a JavaScript regular expression. Returns path:line: text, at most 100 matches.', parameters: { type: 'object', properties: { pattern: str('Regular expression'), folder: str('Only search under this folder') }, required: ['pattern'] } },
  {
    name: 'edit_file',
    description: 'Edit a file with exact search/replace blocks, applied in order. Each search text must occur exactly once in the file.',
    parameters: {
      type: 'object',
      properties: { path: str('Project-relative path'), edits: { type: 'array', items: { type: 'object', properties: { search: str('Exact existing text'), replace: str('Replacement text') }, required: ['search', 'replace'] } } },
      required: ['path', 'edits'],
    },
  },
  { name: 'write_file', description: 'Write a whole file (creates it if missing).', parameters: { type: 'object', properties: { path: str('Project-relative path'), content: str('The complete new content') }, required: ['path', 'content'] } },
  { name: 'create_file', description: 'Create a new file.', parameters: { type: 'object', properties: { path: str('Project-relative path'), content: str('Content') }, required: ['path', 'content'] } },
  { name: 'rename_file', description: 'Rename or move a file.', parameters: { type: 'object', properties: { from: str('Current path'), to: str('New path') }, required: ['from', 'to'] } },
  { name: 'delete_file', description: 'Delete a file.', parameters: { type: 'object', properties: { path: str('Project-relative path') }, required: ['path'] } },
  { name: 'run_command', description: 'Run a shell command in the project\'s sandbox (no network) on the files including your changes. Returns the exit code and the end of the output.', parameters: { type: 'object', properties: { command: str('Command line, e.g. "npm test"') }, required: ['command'] } },
  { name: 'finish', description: 'Finish the task with a short summary of what you changed and why. Your changes then go to the participants for review.', parameters: { type: 'object', properties: { summary: str('What was done') }, required: ['summary'] } },
];

export const AGENT_SYSTEM_PROMPT = `You are a coding agent working inside a shared, collaborative IDE. Several people watch you work and review your changes.
Work in small steps: look at the files you need (list_files, search, read_file), make focused changes (edit_file with exact search/replace blocks; write_file for new or rewritten files), run the project's tests with run_command when there are tests, fix what fails, then call finish with a short summary.
Your changes are not applied until the people reviewing accept them. Participants may send you messages while you work: follow them.`;

export interface ToolOutcome {
  /** What goes back to the model. */
  result: string;
  /** A short line for the transcript. */
  summary: string;
  failed: boolean;
}

export interface ToolPresentation {
  title: string;
  kind: AcpToolKind;
  locations: Array<{ path: string; line?: number }>;
}

/** How a call is shown to participants (ACP title/kind/locations). */
export function presentTool(name: string, args: Record<string, unknown> | undefined): ToolPresentation {
  const s = (k: string): string => (typeof args?.[k] === 'string' ? (args[k] as string) : '');
  const at = (p: string) => (p ? [{ path: p }] : []);
  switch (name) {
    case 'list_files': return { title: `List ${s('folder') || 'files'}`, kind: 'read', locations: [] };
    case 'read_file': return { title: `Read ${s('path')}`, kind: 'read', locations: at(s('path')) };
    case 'search': return { title: `Search /${s('pattern')}/`, kind: 'search', locations: [] };
    case 'edit_file': return { title: `Edit ${s('path')}`, kind: 'edit', locations: at(s('path')) };
    case 'write_file': return { title: `Write ${s('path')}`, kind: 'edit', locations: at(s('path')) };
    case 'create_file': return { title: `Create ${s('path')}`, kind: 'edit', locations: at(s('path')) };
    case 'rename_file': return { title: `Rename ${s('from')} → ${s('to')}`, kind: 'move', locations: at(s('to')) };
    case 'delete_file': return { title: `Delete ${s('path')}`, kind: 'delete', locations: at(s('path')) };
    case 'run_command': return { title: `Run ${s('command')}`, kind: 'execute', locations: [] };
    case 'finish': return { title: 'Finish', kind: 'think', locations: [] };
    default: return { title: name || 'Unknown tool', kind: 'other', locations: [] };
  }
}

const ok = (result: string, summary: string): ToolOutcome => ({ result, summary, failed: false });

/** Runs one workspace tool. Tool failures come back as results, never as exceptions. */
export async function runWorkspaceTool(ws: AgentWorkspace, name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
  try {
    switch (name) {
      case 'list_files': {
        const files = await ws.list(args.folder as string | undefined);
        return ok(files.join('\n') || '(no files)', `${files.length} files`);
      }
      case 'read_file': {
        const text = await ws.read(args.path);
        const lines = text.split('\n').length;
        return ok(text, `${lines} lines`);
      }
      case 'search': {
        const matches = await ws.search(args.pattern, args.folder);
        return ok(matches.join('\n') || 'No matches.', `${matches.length} matches`);
      }
      case 'edit_file': {
        const r = await ws.edit(args.path, args.edits);
        return ok(`Edited ${r.path}: ${r.hunks} changed region(s) pending review.`, `${r.hunks} hunks`);
      }
      case 'write_file': {
        const r = await ws.write(args.path, args.content);
        return ok(r.created ? `Created ${r.path}.` : `Wrote ${r.path}: ${r.hunks} changed region(s) pending review.`, r.created ? 'created' : `${r.hunks} hunks`);
      }
      case 'create_file': {
        await ws.create(args.path, args.content);
        return ok(`Created ${String(args.path)}.`, 'created');
      }
      case 'rename_file': {
        await ws.rename(args.from, args.to);
        return ok(`Renamed ${String(args.from)} to ${String(args.to)}.`, 'renamed');
      }
      case 'delete_file': {
        await ws.delete(args.path);
        return ok(`Deleted ${String(args.path)}.`, 'deleted');
      }
      default:
        return { result: `Error: there is no tool "${name}". Use one of: ${AGENT_TOOLS.map((t) => t.name).join(', ')}.`, summary: 'unknown tool', failed: true };
    }
  } catch (e) {
    if (e instanceof ToolError) return { result: `Error: ${e.message}`, summary: e.message, failed: true };
    throw e;
  }
}

import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { AppError, isBinaryEntry } from '@tandem/protocol';
import type { CheckpointService, ProjectState } from './CheckpointService.ts';
import type { BlameRangeView, HistoryService } from './HistoryService.ts';
import type { ProjectBlobs } from '../files/ProjectBlobs.ts';

const run = promisify(execFile);

export const GIT_EXPORT_LIMITS = {
  /** Newest checkpoints that become commits (the current state is always the last commit). */
  commits: 50,
  /** Size of the bundle handed back. */
  bundleBytes: 32 * 1024 * 1024,
} as const;

interface Exporter {
  id: string;
  name: string;
}

/**
 * The project as a git repository (a `git bundle`): one commit per checkpoint, oldest first, then
 * one for the current state, authored by whoever made the checkpoint. The last commit carries the
 * AI-written line ranges as a Git AI note (`refs/notes/ai`, authorship 3.0.0 text format) and every
 * commit an Agent Trace (v0.1) record (`refs/notes/agent-trace`). Built with the `git` CLI in a
 * temporary directory; one export at a time per server.
 */
export class GitExport {
  #running: Promise<unknown> = Promise.resolve();
  /** Binary files' bytes (set by the app once they exist; without them binary files are left out). */
  blobs: Pick<ProjectBlobs, 'get'> | null = null;

  constructor(private readonly checkpoints: CheckpointService, private readonly history: HistoryService) {}

  bundle(projectId: string, by: Exporter): Promise<{ bundle: Buffer; commits: number }> {
    const next = this.#running.then(() => this.#bundle(projectId, by));
    this.#running = next.catch(() => {});
    return next;
  }

  async #bundle(projectId: string, by: Exporter): Promise<{ bundle: Buffer; commits: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-git-'));
    try {
      const git = (args: string[], env: Record<string, string> = {}) =>
        run('git', ['-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', ...args], { cwd: dir, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
      await git(['init', '-q', '-b', 'main']);
      const commits: { sha: string; state: ProjectState }[] = [];
      const commit = async (state: ProjectState, message: string, author: Exporter | null, at: string) => {
        await writeTree(dir, state, (sha256) => this.blobs?.get(projectId, sha256) ?? Promise.resolve(null));
        await git(['add', '-A']);
        const who = author ?? { id: 'tandem', name: 'Tandem' };
        const date = at;
        await git(['commit', '-q', '--allow-empty', '-m', message], {
          GIT_AUTHOR_NAME: who.name || 'Tandem member', GIT_AUTHOR_EMAIL: `${who.id}@users.tandem.invalid`, GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: 'Tandem', GIT_COMMITTER_EMAIL: 'export@tandem.invalid', GIT_COMMITTER_DATE: date,
        });
        commits.push({ sha: (await git(['rev-parse', 'HEAD'])).stdout.trim(), state });
      };
      for (const { view, state } of await this.checkpoints.contents(projectId, GIT_EXPORT_LIMITS.commits)) {
        await commit(state, `Checkpoint: ${view.name}`, view.createdBy, view.createdAt);
      }
      const current = await this.checkpoints.current(projectId);
      await commit(current, 'Current state', by, new Date().toISOString());
      const last = commits[commits.length - 1]!;
      const ai = await this.#aiRanges(projectId, last.state);
      if (ai.files.size > 0) await note(git, 'refs/notes/ai', last.sha, gitAiNote(ai, commits.length > 1 ? commits[commits.length - 2]!.sha : null));
      for (const { sha } of commits) await note(git, 'refs/notes/agent-trace', sha, JSON.stringify(agentTrace(sha, sha === last.sha ? ai : null), null, 2));
      await git(['bundle', 'create', '-q', 'project.bundle', '--all']);
      const bundle = await readFile(join(dir, 'project.bundle'));
      if (bundle.byteLength > GIT_EXPORT_LIMITS.bundleBytes) throw new AppError('TOO_LARGE', 'The project\'s history is too large to export.');
      return { bundle, commits: commits.length };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Per file path, the AI sessions (suggestion / agent run) and the lines they wrote, from blame. */
  async #aiRanges(projectId: string, state: ProjectState): Promise<AiRanges> {
    const files = new Map<string, Map<string, [number, number][]>>();
    const sessions = new Map<string, Extract<BlameRangeView['author'], { kind: 'ai' }>>();
    for (const [fileId, entry] of state.tree) {
      if (entry.kind !== 'file') continue;
      let ranges: BlameRangeView[];
      try {
        ranges = await this.history.blame(projectId, fileId);
      } catch {
        continue; // deleted meanwhile
      }
      for (const r of ranges) {
        const a = r.author;
        if (a?.kind !== 'ai') continue;
        const session = a.suggestionId ?? a.agentRunId ?? 'unknown';
        sessions.set(session, a);
        let perFile = files.get(entry.path);
        if (!perFile) files.set(entry.path, (perFile = new Map()));
        let lines = perFile.get(session);
        if (!lines) perFile.set(session, (lines = []));
        lines.push([r.fromLine, r.toLine]);
      }
    }
    return { files, sessions };
  }
}

interface AiRanges {
  files: Map<string, Map<string, [number, number][]>>;
  sessions: Map<string, Extract<BlameRangeView['author'], { kind: 'ai' }>>;
}

/** Git AI's authorship log (3.0.0): per file, per session, its line ranges; then `---` and the sessions as JSON. */
function gitAiNote({ files, sessions }: AiRanges, baseCommit: string | null): string {
  const lines: string[] = [];
  for (const [path, perSession] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(path.includes(' ') ? JSON.stringify(path) : path);
    for (const [session, ranges] of perSession) lines.push(`  ${session} ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')}`);
  }
  const prompts = Object.fromEntries([...sessions].map(([id, a]) => [id, {
    agent_id: { tool: 'tandem', id, model: a.model }, provider: a.provider,
    human_author: a.requestedBy?.name ?? null, accepted_by: a.approvedBy?.name ?? null,
  }]));
  return `${lines.join('\n')}\n---\n${JSON.stringify({ schema_version: 'authorship/3.0.0', git_ai_version: 'tandem', base_commit_sha: baseCommit, prompts })}\n`;
}

/** An Agent Trace (v0.1) record for one commit: which ranges an AI wrote (none known for older commits). */
function agentTrace(sha: string, ai: AiRanges | null) {
  return {
    version: '0.1.0',
    id: sha,
    timestamp: new Date().toISOString(),
    vcs: { type: 'git', revision: sha },
    tool: { name: 'tandem' },
    files: ai === null ? [] : [...ai.files].map(([path, perSession]) => ({
      path,
      conversations: [...perSession].map(([session, ranges]) => ({
        contributor: { type: 'ai', model_id: ai.sessions.get(session)?.model ?? null },
        related: [{ type: 'session', id: session }],
        ranges: ranges.map(([start_line, end_line]) => ({ start_line, end_line })),
      })),
    })),
  };
}

async function note(git: (args: string[]) => Promise<unknown>, ref: string, sha: string, text: string): Promise<void> {
  await git(['notes', '--ref', ref, 'add', '-f', '-m', text, sha]);
}

/** Makes the working tree exactly `state` (git's own directory untouched). */
async function writeTree(dir: string, state: ProjectState, blob: (sha256: string) => Promise<Uint8Array | null>): Promise<void> {
  for (const name of await readdir(dir)) if (name !== '.git') await rm(join(dir, name), { recursive: true, force: true });
  for (const [fileId, entry] of state.tree) {
    const target = resolve(dir, entry.path);
    if (!target.startsWith(dir + sep) || target.startsWith(join(dir, '.git') + sep) || target === join(dir, '.git')) continue;
    if (entry.kind === 'folder') {
      await mkdir(target, { recursive: true });
      continue;
    }
    const bytes = isBinaryEntry(entry) ? await blob(entry.sha256) : state.texts[fileId] ?? '';
    if (bytes === null) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
}

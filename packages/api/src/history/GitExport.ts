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
 * one for the current state, authored by whoever made the checkpoint. Every commit that introduced
 * AI-written lines carries them as a Git AI note (`refs/notes/ai`, authorship 3.0.0 text format),
 * and every commit an Agent Trace (v0.1) record (`refs/notes/agent-trace`). Built with the `git` CLI in a
 * temporary directory; one export at a time per server.
 */
export class GitExport {
  #running: Promise<unknown> = Promise.resolve();
  /** Binary files' bytes (set by the app once they exist; without them binary files are left out). */
  blobs: Pick<ProjectBlobs, 'get'> | null = null;

  constructor(private readonly checkpoints: CheckpointService, private readonly history: HistoryService) {}

  bundle(projectId: string, by: Exporter): Promise<{ bundle: Buffer; commits: number }> {
    return this.inRepository(projectId, by, async (dir, commits) => {
      await runGit(dir, ['bundle', 'create', '-q', 'project.bundle', '--all']);
      const bundle = await readFile(join(dir, 'project.bundle'));
      if (bundle.byteLength > GIT_EXPORT_LIMITS.bundleBytes) throw new AppError('TOO_LARGE', 'The project\'s history is too large to export.');
      return { bundle, commits };
    });
  }

  /**
   * Builds the export in a temporary git repository (branch `main`, notes in `refs/notes/ai` and
   * `refs/notes/agent-trace`), hands it to `use`, then removes it. One at a time per server.
   */
  inRepository<T>(projectId: string, by: Exporter, use: (dir: string, commits: number) => Promise<T>): Promise<T> {
    const next = this.#running.then(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tandem-git-'));
      try {
        return await use(dir, await this.#build(projectId, by, dir));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
    this.#running = next.catch(() => {});
    return next;
  }

  async #build(projectId: string, by: Exporter, dir: string): Promise<number> {
    const git = (args: string[], env: Record<string, string> = {}) => runGit(dir, args, env);
    await git(['init', '-q', '-b', 'main']);
    const commits: { sha: string; parent: string | null }[] = [];
    const commit = async (state: ProjectState, message: string, author: Exporter | null, at: string) => {
      await writeTree(dir, state, (sha256) => this.blobs?.get(projectId, sha256) ?? Promise.resolve(null));
      await git(['add', '-A']);
      const who = author ?? { id: 'tandem', name: 'Tandem' };
      await git(['commit', '-q', '--allow-empty', '-m', message], {
        GIT_AUTHOR_NAME: who.name || 'Tandem member', GIT_AUTHOR_EMAIL: `${who.id}@users.tandem.invalid`, GIT_AUTHOR_DATE: at,
        GIT_COMMITTER_NAME: 'Tandem', GIT_COMMITTER_EMAIL: 'export@tandem.invalid', GIT_COMMITTER_DATE: at,
      });
      commits.push({ sha: (await git(['rev-parse', 'HEAD'])).stdout.trim(), parent: commits.at(-1)?.sha ?? null });
    };
    for (const { view, state } of await this.checkpoints.contents(projectId, GIT_EXPORT_LIMITS.commits)) {
      await commit(state, `Checkpoint: ${view.name}`, view.createdBy, view.createdAt);
    }
    const current = await this.checkpoints.current(projectId);
    await commit(current, 'Current state', by, new Date().toISOString());
    const perCommit = await introducedBy(git, await this.#aiRanges(projectId, current));
    for (const { sha, parent } of commits) {
      const ai = perCommit.get(sha) ?? null;
      if (ai) await note(git, 'refs/notes/ai', sha, gitAiNote(ai, parent));
      await note(git, 'refs/notes/agent-trace', sha, JSON.stringify(agentTrace(sha, ai), null, 2));
    }
    return commits.length;
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

/**
 * Splits the AI-written lines of the last commit by the commit that introduced each line (`git
 * blame`), in that commit's own line numbers and path: Git AI's notes record, per commit, the AI
 * lines that commit added, and its blame finds them back the same way.
 */
async function introducedBy(git: (args: string[]) => Promise<{ stdout: string }>, ai: AiRanges): Promise<Map<string, AiRanges>> {
  const out = new Map<string, AiRanges>();
  for (const [path, perSession] of ai.files) {
    const sessionOf = new Map<number, string>();
    for (const [session, ranges] of perSession) for (const [from, to] of ranges) for (let l = from; l <= to; l++) sessionOf.set(l, session);
    const { stdout } = await git(['blame', '--line-porcelain', 'HEAD', '--', path]);
    let sha = '';
    let line = 0;
    let origin = 0;
    for (const row of stdout.split('\n')) {
      const header = /^([0-9a-f]{40}) (\d+) (\d+)/.exec(row);
      if (header) {
        sha = header[1]!;
        origin = Number(header[2]);
        line = Number(header[3]);
      }
      if (!row.startsWith('filename ')) continue;
      const session = sessionOf.get(line);
      if (session === undefined) continue;
      let ranges = out.get(sha);
      if (!ranges) out.set(sha, (ranges = { files: new Map(), sessions: new Map() }));
      ranges.sessions.set(session, ai.sessions.get(session)!);
      const file = row.slice('filename '.length);
      let sessions = ranges.files.get(file);
      if (!sessions) ranges.files.set(file, (sessions = new Map()));
      let lines = sessions.get(session);
      if (!lines) sessions.set(session, (lines = []));
      const last = lines.at(-1);
      if (last && last[1] === origin - 1) last[1] = origin;
      else lines.push([origin, origin]);
    }
  }
  return out;
}

/** An Agent Trace (v0.1) record for one commit: the AI-written ranges it introduced. */
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

function runGit(dir: string, args: string[], env: Record<string, string> = {}) {
  return run('git', ['-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', '-c', 'core.quotePath=false', '-c', 'core.hooksPath=/dev/null', ...args], {
    cwd: dir, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024,
  });
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

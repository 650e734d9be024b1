import { z } from 'zod';
import { AppError } from '@tandem/protocol';
import { MAX_TERMINAL_WRITE_CHARS } from '@tandem/sandbox';
import { router, projectHomeProcedure, requireRole, type Context } from '../trpc.ts';
import { id, projectId } from '../inputs.ts';
import type { SandboxService } from '../sandbox/SandboxService.ts';

const MAX_COMMAND_CHARS = 4096;

const terminalRef = z.object({ projectId: id, terminalId: id });
const size = { cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(500) };
const path = z.string().min(1).max(1024);

function sandboxes(ctx: Context): SandboxService {
  if (!ctx.services.sandboxes) throw new AppError('UNAVAILABLE', 'Running code is not available on this server.');
  return ctx.services.sandboxes;
}

async function configuredCommand(ctx: Context, projectId: string): Promise<string | null> {
  const p = await ctx.prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { runCommand: true } });
  return p.runCommand;
}

/**
 * Running a project's code and shared terminals, in sandboxes. Everyone in the project sees
 * every run and terminal (output arrives on the project's event stream); who may do what:
 * - status, runs.list/output, terminals.list/scrollback, generated.list: any member;
 * - runs.start/stop, terminals.open/write/resize/kill, generated.import, setRunCommand: editors
 *   and owners; resetEnvironment: owners. A viewer's keystrokes never reach a terminal: `write` refuses them here.
 */
export const sandboxRouter = router({
  status: projectHomeProcedure.input(projectId).query(async ({ ctx, input }) => {
    const role = await requireRole(ctx, input.projectId, 'viewer');
    const status = await sandboxes(ctx).status(input.projectId, await configuredCommand(ctx, input.projectId));
    return { ...status, canControl: role !== 'viewer' };
  }),

  /** The project's own run command (null: pick it from tandem.json / package.json / files). */
  setRunCommand: projectHomeProcedure
    .input(z.object({ projectId: id, command: z.string().trim().max(MAX_COMMAND_CHARS).nullable() }))
    .mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      if (input.command?.includes('\0')) throw new AppError('BAD_INPUT', 'The run command contains invalid characters.');
      const command = input.command ? input.command : null;
      await ctx.prisma.project.update({ where: { id: input.projectId }, data: { runCommand: command } });
      return { runCommand: command };
    }),

  /**
   * Owners only: stops the project's programs and deletes its environment (installed packages,
   * caches, generated files). Documents are untouched and copied in again at the next run.
   */
  resetEnvironment: projectHomeProcedure.input(projectId).mutation(async ({ ctx, input }) => {
    await requireRole(ctx, input.projectId, 'owner');
    await sandboxes(ctx).resetEnvironment(input.projectId);
    return { ok: true };
  }),

  runs: router({
    start: projectHomeProcedure.input(projectId).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      const command = await configuredCommand(ctx, input.projectId);
      return sandboxes(ctx).startRun(input.projectId, { id: ctx.user.id, name: ctx.user.name }, command);
    }),

    stop: projectHomeProcedure.input(z.object({ projectId: id, runId: id })).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return { stopped: await sandboxes(ctx).stopRun(input.projectId, input.runId, { id: ctx.user.id, name: ctx.user.name }) };
    }),

    list: projectHomeProcedure.input(projectId).query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return sandboxes(ctx).listRuns(input.projectId);
    }),

    output: projectHomeProcedure.input(z.object({ projectId: id, runId: id })).query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return sandboxes(ctx).runOutput(input.projectId, input.runId);
    }),
  }),

  terminals: router({
    open: projectHomeProcedure.input(z.object({ projectId: id, ...size })).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return sandboxes(ctx).openTerminal(input.projectId, { id: ctx.user.id, name: ctx.user.name }, { cols: input.cols, rows: input.rows });
    }),

    write: projectHomeProcedure
      .input(terminalRef.extend({ data: z.string().max(MAX_TERMINAL_WRITE_CHARS, 'That paste is too large for the terminal.') }))
      .mutation(async ({ ctx, input }) => {
        await requireRole(ctx, input.projectId, 'editor');
        await sandboxes(ctx).writeTerminal(input.projectId, input.terminalId, input.data);
        return { ok: true };
      }),

    resize: projectHomeProcedure.input(terminalRef.extend(size)).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return sandboxes(ctx).resizeTerminal(input.projectId, input.terminalId, { cols: input.cols, rows: input.rows });
    }),

    kill: projectHomeProcedure.input(terminalRef).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      await sandboxes(ctx).killTerminal(input.projectId, input.terminalId);
      return { ok: true };
    }),

    list: projectHomeProcedure.input(projectId).query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return sandboxes(ctx).listTerminals(input.projectId);
    }),

    scrollback: projectHomeProcedure.input(terminalRef).query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return sandboxes(ctx).scrollback(input.projectId, input.terminalId);
    }),
  }),

  /** Files the program wrote that are not project documents; importing adds one as a new file. */
  generated: router({
    list: projectHomeProcedure.input(projectId).query(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return sandboxes(ctx).generatedFiles(input.projectId);
    }),

    import: projectHomeProcedure.input(z.object({ projectId: id, path })).mutation(async ({ ctx, input }) => {
      await requireRole(ctx, input.projectId, 'editor');
      return sandboxes(ctx).importGenerated(input.projectId, input.path, { id: ctx.user.id, name: ctx.user.name });
    }),
  }),
});

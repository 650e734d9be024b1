import { router, createCallerFactory, type ProcedureMeta } from './trpc.ts';
import { authRouter } from './routers/authRouter.ts';
import { tokensRouter } from './routers/tokensRouter.ts';
import { projectsRouter } from './routers/projectsRouter.ts';
import { membersRouter } from './routers/membersRouter.ts';
import { invitesRouter } from './routers/invitesRouter.ts';
import { streamRouter } from './routers/streamRouter.ts';
import { aiRouter } from './routers/aiRouter.ts';
import { suggestionsRouter } from './routers/suggestionsRouter.ts';
import { sandboxRouter } from './routers/sandboxRouter.ts';
import { searchRouter } from './routers/searchRouter.ts';
import { commentsRouter } from './routers/commentsRouter.ts';
import { networkRouter } from './routers/networkRouter.ts';
import { agentRouter } from './routers/agentRouter.ts';
import { historyRouter } from './routers/historyRouter.ts';
import { gitRouter } from './routers/gitRouter.ts';

export const appRouter = router({
  auth: authRouter,
  tokens: tokensRouter,
  projects: projectsRouter,
  members: membersRouter,
  invites: invitesRouter,
  stream: streamRouter,
  ai: aiRouter,
  suggestions: suggestionsRouter,
  sandbox: sandboxRouter,
  search: searchRouter,
  comments: commentsRouter,
  network: networkRouter,
  agent: agentRouter,
  history: historyRouter,
  git: gitRouter,
});

export type AppRouter = typeof appRouter;

/**
 * Paths of the procedures that run on their project's home node (declared with
 * `projectHomeProcedure`): a cluster forwards calls to them there.
 */
export const projectHomeProcedures: ReadonlySet<string> = new Set(
  // At run time `_def.procedures` is flat, keyed by full path ('sandbox.runs.start').
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { meta?: ProcedureMeta } }>)
    .filter(([, procedure]) => procedure._def.meta?.runsOn === 'projectHome')
    .map(([path]) => path),
);
export const createCaller = createCallerFactory(appRouter);

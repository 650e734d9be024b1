import { router, createCallerFactory } from './trpc.ts';
import { authRouter } from './routers/authRouter.ts';
import { tokensRouter } from './routers/tokensRouter.ts';
import { projectsRouter } from './routers/projectsRouter.ts';
import { membersRouter } from './routers/membersRouter.ts';
import { invitesRouter } from './routers/invitesRouter.ts';
import { streamRouter } from './routers/streamRouter.ts';
import { aiRouter } from './routers/aiRouter.ts';
import { suggestionsRouter } from './routers/suggestionsRouter.ts';
import { sandboxRouter } from './routers/sandboxRouter.ts';
import { agentRouter } from './routers/agentRouter.ts';

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
  agent: agentRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);

import { z } from 'zod';
import { tracked } from '@trpc/server';
import { router, protectedProcedure, requireRole, type Context } from '../trpc.ts';
import { id } from '../inputs.ts';
import { projectChannel, tabChannel, type HubEvent } from '../EventHub.ts';

export const streamRouter = router({
  /**
   * The one live stream of a browser tab: its project's shared events plus its own private ones.
   * Resumable: the client passes the last event id it saw (tRPC does this on reconnect).
   */
  events: protectedProcedure
    .input(z.object({ projectId: id, tabId: id, lastEventId: z.string().max(64).nullish() }))
    // Membership is checked before the stream starts (not inside the generator), so a refusal
    // goes through the error mapping like any procedure's: NOT_FOUND for non-members.
    .subscription(async ({ ctx, input, signal }) => {
      await requireRole(ctx, input.projectId, 'viewer');
      return streamEvents(ctx, input, signal);
    }),
});

/** Subscribes at once (see EventHub.subscribe); the returned stream only wraps ids for resuming. */
function streamEvents(
  ctx: { services: Context['services']; user: { id: string }; credential?: Context['credential'] },
  input: { projectId: string; tabId: string; lastEventId?: string | null | undefined },
  signal: AbortSignal | undefined,
) {
  const channels = [projectChannel(input.projectId), tabChannel(ctx.user.id, input.tabId)];
  const events = ctx.services.hub.subscribe(channels, {
    projectId: input.projectId,
    userId: ctx.user.id,
    lastEventId: input.lastEventId,
    signal,
    credential: ctx.credential ?? undefined,
  });
  return (async function* () {
    for await (const e of events) yield tracked(e.id, payloadOf(e));
  })();
}

/** One payload object per event, shared by all its subscribers (EventStreamWriter encodes it once). */
const payloads = new WeakMap<HubEvent, { channel: string; type: string; data: unknown }>();
function payloadOf(e: HubEvent) {
  let payload = payloads.get(e);
  if (!payload) payloads.set(e, (payload = { channel: e.channel, type: e.type, data: e.data }));
  return payload;
}

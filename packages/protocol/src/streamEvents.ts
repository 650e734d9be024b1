/**
 * The events of a project's live stream (tRPC `stream.events`, one SSE stream per browser tab):
 * event name → payload type. The map lives here, at the boundary; each package that publishes
 * events adds its entries beside its payload types by declaration merging:
 *
 *     declare module '@tandem/protocol' {
 *       interface ProjectStreamEvents { 'sandbox.run': RunView }
 *     }
 *
 * The server's EventHub publishes only names in this map with their payload type, and the
 * browser's ProjectStream hands each handler the payload of the name it listens to, so neither
 * side casts `unknown`.
 */
export interface ProjectStreamEvents {
  /** The stream could not resume where the tab left off: refetch state. */
  resync: null;
}

export type ProjectStreamEventName = keyof ProjectStreamEvents & string;

/** One event as it travels on the stream: its channel, name and the payload that name carries. */
export type ProjectStreamMessage = {
  [K in ProjectStreamEventName]: { channel: string; type: K; data: ProjectStreamEvents[K] };
}[ProjectStreamEventName];

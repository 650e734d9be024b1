/**
 * PREVIEWS_EVENT on the project channel: the programs listening in the project's sandboxes, sent
 * by the node that runs them whenever a port opens or closes (a session ending closes its ports).
 * It replaces the list the client had; on `resync` the client fetches `network.previews` again.
 */
export const PREVIEWS_EVENT = 'sandbox.previews' as const;

export interface PreviewTarget {
  port: number;
  url: string;
}

export interface PreviewsChanged {
  projectId: string;
  previews: PreviewTarget[];
}

declare module '@tandem/protocol' {
  interface ProjectStreamEvents {
    'sandbox.previews': PreviewsChanged;
  }
}

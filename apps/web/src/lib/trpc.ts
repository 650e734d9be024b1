'use client';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import type { AppRouter } from '@tandem/api';
import { TRPC_MAX_BATCH } from '@tandem/protocol';

export const trpc = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink({ url: '/api/trpc' }),
      false: httpBatchLink({ url: '/api/trpc', maxURLLength: 2000, maxItems: TRPC_MAX_BATCH }),
    }),
  ],
});

/** A user-facing message for any error thrown by a tRPC call. */
export function errorMessage(e: unknown): string {
  if (e instanceof TRPCClientError) {
    const zod = (e.data as { zodError?: unknown } | undefined)?.zodError;
    if (!zod && e.message.startsWith('[')) {
      try {
        const issues = JSON.parse(e.message) as { message: string }[];
        return issues.map((i) => i.message).join(' ');
      } catch {
        // not a zod issue list
      }
    }
    return e.message;
  }
  return e instanceof Error ? e.message : 'Something went wrong.';
}

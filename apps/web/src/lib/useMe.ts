'use client';
import { useEffect, useState } from 'react';
import { usePathname, useRouter } from 'next/navigation';
import { trpc } from './trpc';

export type Me = NonNullable<Awaited<ReturnType<typeof trpc.auth.me.query>>>;

/** The signed-in user; redirects to sign-in (and back afterwards) when there is none. */
export function useMe(): Me | null {
  const [me, setMe] = useState<Me | null>(null);
  const router = useRouter();
  const path = usePathname();
  useEffect(() => {
    trpc.auth.me.query().then((u) => {
      if (u) setMe(u);
      else router.replace(`/signin?next=${encodeURIComponent(path)}`);
    });
  }, [router, path]);
  return me;
}

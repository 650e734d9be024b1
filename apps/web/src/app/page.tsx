'use client';
import { useEffect } from 'react';
import { useRouter } from 'next/navigation';
import { trpc } from '@/lib/trpc';

export default function Home() {
  const router = useRouter();
  useEffect(() => {
    trpc.auth.me.query().then((u) => router.replace(u ? '/projects' : '/signin'));
  }, [router]);
  return null;
}

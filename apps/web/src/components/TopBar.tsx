'use client';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { trpc } from '@/lib/trpc';
import type { Me } from '@/lib/useMe';
import { Avatar } from './Avatar';

export function TopBar({ me, children }: { me: Me | null; children?: React.ReactNode }) {
  const router = useRouter();
  const path = usePathname();
  const signOut = async () => {
    await trpc.auth.signOut.mutate();
    router.replace('/signin');
  };
  return (
    <header className="topbar">
      <Link href="/projects" className="brand"><span className="brand-mark" />Tandem</Link>
      <nav>
        <Link href="/projects" className={path === '/projects' ? 'active' : ''}>Projects</Link>
        <Link href="/settings" className={path === '/settings' ? 'active' : ''}>Account</Link>
      </nav>
      {children}
      <span className="spacer" />
      {me && (
        <div className="row">
          <Avatar name={me.name} id={me.id} />
          <span className="muted small" data-testid="me">{me.name}</span>
          <button className="link small" onClick={signOut}>Sign out</button>
        </div>
      )}
    </header>
  );
}

'use client';
import { useState } from 'react';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { safeNextPath } from '@tandem/protocol';
import { trpc, errorMessage } from '@/lib/trpc';

/** Sign-in and sign-up share one form; after success we go back to where the user came from. */
export function AuthForm({ mode }: { mode: 'signin' | 'signup' }) {
  const router = useRouter();
  const params = useSearchParams();
  // Only a path on this site: `?next=//other.host` must not send a fresh sign-in elsewhere.
  const next = safeNextPath(params.get('next'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const email = String(f.get('email'));
    const password = String(f.get('password'));
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signup') await trpc.auth.signUp.mutate({ email, password, name: String(f.get('name')) });
      else await trpc.auth.signIn.mutate({ email, password });
      router.replace(next);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const other = mode === 'signin' ? '/signup' : '/signin';
  const q = next !== '/projects' ? `?next=${encodeURIComponent(next)}` : '';
  return (
    <div className="auth-wrap">
      <div className="auth-card">
        <div className="brand"><span className="brand-mark" />Tandem</div>
        <form className="card stack" onSubmit={submit}>
          <h1>{mode === 'signin' ? 'Sign in' : 'Create your account'}</h1>
          {mode === 'signup' && <label>Name<input name="name" required maxLength={80} autoComplete="name" /></label>}
          <label>Email<input name="email" type="email" required autoComplete="email" /></label>
          <label>Password<input name="password" type="password" required minLength={mode === 'signup' ? 10 : 1} autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} /></label>
          {error && <div className="error" role="alert">{error}</div>}
          <button className="primary" type="submit" disabled={busy}>{mode === 'signin' ? 'Sign in' : 'Sign up'}</button>
          <div className="muted small">
            {mode === 'signin' ? 'New to Tandem? ' : 'Already have an account? '}
            <Link href={other + q}>{mode === 'signin' ? 'Create an account' : 'Sign in'}</Link>
          </div>
        </form>
      </div>
    </div>
  );
}

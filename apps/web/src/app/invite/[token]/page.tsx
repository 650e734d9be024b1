'use client';
import { use, useState } from 'react';
import { useRouter } from 'next/navigation';
import { TopBar } from '@/components/TopBar';
import { trpc, errorMessage } from '@/lib/trpc';
import { useMe } from '@/lib/useMe';
import { useQuery } from '@/lib/useQuery';

export default function Invite({ params }: { params: Promise<{ token: string }> }) {
  const { token } = use(params);
  const me = useMe();
  const router = useRouter();
  const invite = useQuery(() => (me ? trpc.invites.preview.query({ token }) : new Promise<never>(() => {})), [token, me]);
  const [error, setError] = useState<string | null>(null);

  const join = async () => {
    try {
      const r = await trpc.invites.accept.mutate({ token });
      router.replace(`/projects/${r.projectId}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return (
    <>
      <TopBar me={me} />
      <main className="page">
        <div className="card stack" style={{ maxWidth: 460, margin: '40px auto' }}>
          {invite.error && <div className="error">{invite.error}</div>}
          {invite.data && (
            <>
              <h1>Join “{invite.data.projectName}”</h1>
              <p className="muted" style={{ margin: 0 }}>
                You were invited as <span className={`badge ${invite.data.role}`}>{invite.data.role}</span>.
                {invite.data.role === 'viewer' ? ' You can watch and review, but not edit.' : ' You can edit files together with the team.'}
              </p>
              {error && <div className="error">{error}</div>}
              <button className="primary" onClick={join}>Join project</button>
            </>
          )}
          {!invite.data && !invite.error && <p className="muted">Loading invite…</p>}
        </div>
      </main>
    </>
  );
}

'use client';
import { use } from 'react';
import Link from 'next/link';
import { TopBar } from '@/components/TopBar';
import { AiActivity } from '@/components/review/AiActivity';
import { AgentActivity } from '@/components/agent/AgentActivity';
import { useMe } from '@/lib/useMe';

export default function ActivityPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = use(params);
  const me = useMe();
  return (
    <>
      <TopBar me={me} />
      <main className="page stack" style={{ maxWidth: 1180 }}>
        <div className="row">
          <h1 style={{ margin: 0 }}>AI activity</h1>
          <span style={{ flex: 1 }} />
          <Link href={`/projects/${projectId}/settings`} className="button">Settings</Link>
          <Link href={`/projects/${projectId}`} className="button">Open editor</Link>
        </div>
        <h2 style={{ margin: '8px 0 0' }}>Agent runs</h2>
        <AgentActivity projectId={projectId} />
        <h2 style={{ margin: '8px 0 0' }}>AI edits</h2>
        <AiActivity projectId={projectId} />
      </main>
    </>
  );
}

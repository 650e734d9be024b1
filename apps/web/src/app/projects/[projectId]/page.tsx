'use client';
import { use } from 'react';
import { IdeWorkspace } from '@/components/ide/IdeWorkspace';

export default function ProjectPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = use(params);
  return <IdeWorkspace projectId={projectId} />;
}

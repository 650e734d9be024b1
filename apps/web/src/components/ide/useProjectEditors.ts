'use client';
import { useEffect, useRef, useState } from 'react';
import type { TreeEntries } from '@/lib/ide/fileTree';
import type { CodeIntelligenceHost } from '@/lib/ide/CodeIntelligence';
import type { ProjectEditors } from '@/lib/ide/ProjectEditors';
import type { ProjectSession } from '@/lib/ide/ProjectSession';

/**
 * What the editor groups of the project share (models, bindings, code intelligence), created once
 * the editor's chunk (Monaco) is loaded; null until then.
 */
export function useProjectEditors(projectId: string, session: ProjectSession | null, entries: TreeEntries, host: CodeIntelligenceHost): ProjectEditors | null {
  const latestHost = useRef(host);
  latestHost.current = host;
  const [project, setProject] = useState<ProjectEditors | null>(null);
  useEffect(() => {
    if (!session) return;
    let created: ProjectEditors | null = null;
    let cancelled = false;
    void import('@/lib/ide/editorChunk').then(({ ProjectEditors }) => {
      if (cancelled) return;
      created = new ProjectEditors(projectId, session, {
        open: (path, position, source) => latestHost.current.open(path, position, source),
        problem: (message) => latestHost.current.problem(message),
      });
      setProject(created);
    });
    return () => {
      cancelled = true;
      created?.dispose();
      setProject(null);
    };
  }, [projectId, session]);

  // Renamed files move to their new paths; files created, renamed or deleted: the code
  // intelligence reloads the project's sources.
  useEffect(() => {
    if (!project) return;
    project.treeChanged(entries);
    const timer = setTimeout(() => project.refreshSources(), 500);
    return () => clearTimeout(timer);
  }, [project, entries]);
  return project;
}

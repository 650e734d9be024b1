'use client';
import { useEffect, useRef, useState } from 'react';
import type { PresenceUser } from './presence';
import { ProjectSession, type SessionSnapshot } from './ProjectSession';

/** Opens the project's live session for the signed-in user and re-renders on every change. */
export function useProjectSession(projectId: string, user: PresenceUser | null, onRoleChanged: () => void) {
  const [state, setState] = useState<{ session: ProjectSession; snapshot: SessionSnapshot } | null>(null);
  const roleChanged = useRef(onRoleChanged);
  roleChanged.current = onRoleChanged;
  const userId = user?.id;
  const userName = user?.name;
  const userColor = user?.color;

  useEffect(() => {
    if (!userId || !userName || !userColor) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const session = new ProjectSession({
      projectId,
      user: { id: userId, name: userName, color: userColor },
      syncUrl: `${scheme}://${location.host}/sync`,
      onRoleChanged: () => roleChanged.current(),
    });
    setState({ session, snapshot: session.getSnapshot() });
    const unsubscribe = session.subscribe(() => setState({ session, snapshot: session.getSnapshot() }));
    return () => {
      unsubscribe();
      session.destroy();
      setState(null);
    };
  }, [projectId, userId, userName, userColor]);

  return state;
}

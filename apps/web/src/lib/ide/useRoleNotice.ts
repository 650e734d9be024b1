'use client';
import { useEffect, useRef } from 'react';

/** Tells the user when their role in the project changes while the IDE is open. */
export function useRoleNotice(role: string | null, onNotice: (text: string) => void) {
  const roleBefore = useRef(role);
  useEffect(() => {
    const before = roleBefore.current;
    roleBefore.current = role;
    if (!before || !role || before === role) return;
    onNotice(role === 'viewer' ? 'Your role changed to viewer: the project is now read-only for you.' : `Your role changed to ${role}: you can edit now.`);
  }, [role, onNotice]);
}

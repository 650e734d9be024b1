'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from './trpc';

/** Runs an async loader on mount (and on `reload()`), tracking data, error and loading. */
export function useQuery<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    try {
      const data = await loadRef.current();
      setState({ data, loading: false });
    } catch (e) {
      setState({ error: errorMessage(e), loading: false });
    }
  }, []);
  useEffect(() => void reload(), deps);
  return { ...state, reload };
}

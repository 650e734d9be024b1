'use client';
import { useCallback, useEffect, useState } from 'react';

/** Which side panels are shown and how wide the file tree is; remembered per browser profile. */
export interface PanelLayout {
  sidebarWidth: number;
  /** null: automatic (open when the window is wide enough for it). */
  sidebar: boolean | null;
  review: boolean | null;
}

const STORAGE_KEY = 'tandem:layout';
const DEFAULT_LAYOUT: PanelLayout = { sidebarWidth: 264, sidebar: null, review: null };
export const SIDEBAR_MIN = 180;
export const SIDEBAR_MAX = 520;
/** Below these window widths, panels start collapsed (their toggles stay in the status bar). */
const SIDEBAR_AUTO_MIN_WIDTH = 760;
const REVIEW_AUTO_MIN_WIDTH = 1180;

function load(): PanelLayout {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<PanelLayout> | null;
    if (!stored || typeof stored !== 'object') return DEFAULT_LAYOUT;
    const width = Number(stored.sidebarWidth);
    return {
      sidebarWidth: Number.isFinite(width) ? Math.min(SIDEBAR_MAX, Math.max(SIDEBAR_MIN, width)) : DEFAULT_LAYOUT.sidebarWidth,
      sidebar: typeof stored.sidebar === 'boolean' ? stored.sidebar : null,
      review: typeof stored.review === 'boolean' ? stored.review : null,
    };
  } catch {
    return DEFAULT_LAYOUT;
  }
}

function useWindowWidth(): number {
  const [width, setWidth] = useState(() => (typeof window === 'undefined' ? 1440 : window.innerWidth));
  useEffect(() => {
    const update = () => setWidth(window.innerWidth);
    window.addEventListener('resize', update);
    return () => window.removeEventListener('resize', update);
  }, []);
  return width;
}

export function usePanelLayout() {
  const [layout, setLayout] = useState<PanelLayout>(DEFAULT_LAYOUT);
  useEffect(() => setLayout(load()), []);
  const windowWidth = useWindowWidth();

  const update = useCallback((change: (l: PanelLayout) => PanelLayout) => {
    setLayout((l) => {
      const next = change(l);
      try {
        localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
      } catch { /* storage full or disabled: the layout still applies to this tab */ }
      return next;
    });
  }, []);

  const sidebarOpen = layout.sidebar ?? windowWidth >= SIDEBAR_AUTO_MIN_WIDTH;
  const reviewOpen = layout.review ?? windowWidth >= REVIEW_AUTO_MIN_WIDTH;
  return {
    sidebarWidth: layout.sidebarWidth,
    sidebarOpen,
    reviewOpen,
    toggleSidebar: useCallback(() => update((l) => ({ ...l, sidebar: !(l.sidebar ?? window.innerWidth >= SIDEBAR_AUTO_MIN_WIDTH) })), [update]),
    showSidebar: useCallback(() => update((l) => ({ ...l, sidebar: true })), [update]),
    toggleReview: useCallback(() => update((l) => ({ ...l, review: !(l.review ?? window.innerWidth >= REVIEW_AUTO_MIN_WIDTH) })), [update]),
    setSidebarWidth: useCallback((w: number) => update((l) => ({ ...l, sidebarWidth: Math.min(SIDEBAR_MAX, Math.max(SIDEBAR_MIN, Math.round(w))) })), [update]),
  };
}

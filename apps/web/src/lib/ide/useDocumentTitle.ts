'use client';
import { useEffect } from 'react';

/** The browser tab names the file and the project: "index.js — Demo — Tandem". */
export function useDocumentTitle(path: string | null, projectName: string | undefined): void {
  useEffect(() => {
    const fileName = path?.slice(path.lastIndexOf('/') + 1);
    document.title = [fileName, projectName, 'Tandem'].filter(Boolean).join(' — ');
  }, [path, projectName]);
}

'use client';
import { useEffect, useState } from 'react';
import { DOMPurify, marked } from '@/lib/markdown';
import type { ProjectSession } from '@/lib/ide/ProjectSession';

/** Markdown documents larger than this are not rendered (the source stays editable). */
const MAX_PREVIEW_CHARS = 512 * 1024;

/**
 * The rendered Markdown of a shared file, beside its source, updating live as anyone types.
 * Rendered HTML is sanitized (DOMPurify); links open in a new tab, without the opener.
 */
export function MarkdownPreview({ session, fileId }: { session: ProjectSession; fileId: string }) {
  const [html, setHtml] = useState('');
  useEffect(() => {
    const file = session.acquireFile(fileId);
    let frame = 0;
    const render = () => {
      frame = 0;
      const source = file.text.toString();
      const rendered = source.length > MAX_PREVIEW_CHARS
        ? `<p><em>This file is too large to preview (${Math.round(source.length / 1024)} KB).</em></p>`
        : (marked.parse(source, { async: false, gfm: true }) as string);
      setHtml(DOMPurify.sanitize(rendered, { FORBID_TAGS: ['style', 'form'], FORBID_ATTR: ['style'] }));
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(render);
    };
    render();
    file.text.observe(schedule);
    return () => {
      if (frame) cancelAnimationFrame(frame);
      file.text.unobserve(schedule);
      session.releaseFile(fileId);
    };
  }, [session, fileId]);

  return (
    <article
      className="markdown-preview"
      data-testid="markdown-preview"
      dangerouslySetInnerHTML={{ __html: html }}
      onClick={(e) => {
        const a = (e.target as HTMLElement).closest('a');
        if (!a || !a.href) return;
        e.preventDefault();
        window.open(a.href, '_blank', 'noopener,noreferrer');
      }}
    />
  );
}

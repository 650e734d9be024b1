'use client';
import { findFileLinks } from '@/lib/ide/fileLinks';
import { useFileNavigation } from '@/lib/ide/FileNavigation';

/** Program output with `file:line[:col]` references to project files as links that open them. */
export function LinkedText({ text }: { text: string }) {
  const nav = useFileNavigation();
  const links = nav ? findFileLinks(text, nav.fileIdAt) : [];
  if (!nav || links.length === 0) return <>{text}</>;
  const parts: React.ReactNode[] = [];
  let at = 0;
  for (const link of links) {
    if (link.start > at) parts.push(text.slice(at, link.start));
    parts.push(
      <a
        key={link.start}
        href="#"
        className="file-link"
        title={`Open at line ${link.line}, column ${link.column}`}
        data-testid="file-link"
        onClick={(e) => {
          e.preventDefault();
          nav.openAt(link.fileId, link.line, link.column);
        }}
      >
        {text.slice(link.start, link.end)}
      </a>,
    );
    at = link.end;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

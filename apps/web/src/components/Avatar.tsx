/** A stable colour per user id, shared by avatars, cursors and presence. */
export function userColor(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return `hsl(${h % 360} 70% 68%)`;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/);
  return ((parts[0]?.[0] ?? '?') + (parts.length > 1 ? parts[parts.length - 1]![0] : '')).toUpperCase();
}

export function Avatar({ name, id, title }: { name: string; id: string; title?: string }) {
  return (
    <span className="avatar" style={{ background: userColor(id) }} title={title ?? name}>
      {initials(name)}
    </span>
  );
}

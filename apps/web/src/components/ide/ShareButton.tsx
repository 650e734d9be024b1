'use client';
import { useEffect, useRef, useState } from 'react';
import { errorMessage, trpc } from '@/lib/trpc';

type InviteRole = 'editor' | 'viewer';

/**
 * Share from the IDE: owners create an invite link (role + expiry) and it is copied at once;
 * others see who can invite. One request at a time, so a double click makes one link.
 */
export function ShareButton({ projectId, isOwner }: { projectId: string; isOwner: boolean }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState<InviteRole>('editor');
  const [hours, setHours] = useState(72);
  const [busy, setBusy] = useState(false);
  const [link, setLink] = useState<{ url: string; copied: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    window.addEventListener('mousedown', close);
    window.addEventListener('keydown', escape);
    return () => {
      window.removeEventListener('mousedown', close);
      window.removeEventListener('keydown', escape);
    };
  }, [open]);

  const create = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const invite = await trpc.invites.create.mutate({ projectId, role, expiresInHours: hours });
      const copied = await navigator.clipboard?.writeText(invite.url).then(() => true, () => false) ?? false;
      setLink({ url: invite.url, copied });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="share" ref={root}>
      <button className="small-button share-button" onClick={() => { setOpen((o) => !o); setLink(null); setError(null); }} aria-expanded={open} data-testid="share-button">
        Share
      </button>
      {open && (
        <div className="share-popover" role="dialog" aria-label="Share this project" data-testid="share-popover">
          {isOwner ? (
            <>
              <div className="share-title">Invite people with a link</div>
              <div className="share-row">
                <label>
                  <span className="muted small">Role</span>
                  <select value={role} onChange={(e) => setRole(e.target.value as InviteRole)} aria-label="Invite role">
                    <option value="editor">Editor (can edit and run)</option>
                    <option value="viewer">Viewer (read-only)</option>
                  </select>
                </label>
                <label>
                  <span className="muted small">Expires</span>
                  <select value={hours} onChange={(e) => setHours(Number(e.target.value))} aria-label="Invite expiry">
                    <option value={24}>in 1 day</option>
                    <option value={72}>in 3 days</option>
                    <option value={168}>in 7 days</option>
                    <option value={720}>in 30 days</option>
                  </select>
                </label>
              </div>
              {link ? (
                <div className="share-link">
                  <input readOnly value={link.url} onFocus={(e) => e.currentTarget.select()} data-testid="share-link" aria-label="Invite link" />
                  <span className={link.copied ? 'share-copied small' : 'muted small'}>{link.copied ? 'Copied to the clipboard.' : 'Copy the link above.'}</span>
                </div>
              ) : (
                <button className="primary" onClick={create} disabled={busy} data-testid="share-create">{busy ? 'Creating…' : 'Create and copy link'}</button>
              )}
              {error && <div className="error small" role="alert">{error}</div>}
              <a className="small" href={`/projects/${projectId}/settings`}>Manage members and links</a>
            </>
          ) : (
            <p className="muted small share-note">Only the project&apos;s owners can invite people. Ask an owner for an invite link.</p>
          )}
        </div>
      )}
    </div>
  );
}

'use client';
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

export interface ConfirmOptions {
  title: string;
  body?: ReactNode;
  /** Label of the confirming button, e.g. "Remove". */
  confirm: string;
  danger?: boolean;
}

interface Pending extends ConfirmOptions { resolve(ok: boolean): void }

/**
 * An in-page confirmation (a modal `<dialog>`, styled like the app) instead of the browser's
 * `confirm()`. `ask(...)` resolves true when confirmed, false on Cancel / Esc / backdrop click.
 * Render `dialog` once in the page.
 */
export function useConfirm(): { ask(options: ConfirmOptions): Promise<boolean>; dialog: ReactNode } {
  const [pending, setPending] = useState<Pending | null>(null);
  const ref = useRef<HTMLDialogElement>(null);
  const ask = useCallback((options: ConfirmOptions) => new Promise<boolean>((resolve) => setPending({ ...options, resolve })), []);
  const close = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(null);
  };
  useEffect(() => {
    if (pending && ref.current && !ref.current.open) ref.current.showModal();
  }, [pending]);
  const dialog = pending && (
    <dialog
      ref={ref}
      className="confirm-dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => { e.preventDefault(); close(false); }}
      onClick={(e) => { if (e.target === e.currentTarget) close(false); }}
    >
      <h2 id="confirm-title">{pending.title}</h2>
      {pending.body && <div className="muted">{pending.body}</div>}
      <div className="row confirm-actions">
        <button type="button" onClick={() => close(false)} autoFocus>Cancel</button>
        <button type="button" className={pending.danger ? 'danger' : 'primary'} onClick={() => close(true)}>{pending.confirm}</button>
      </div>
    </dialog>
  );
  return { ask, dialog };
}

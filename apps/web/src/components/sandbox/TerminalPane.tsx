'use client';
import { useEffect, useRef } from 'react';
import type { Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import type { TerminalData, TerminalView } from '@tandem/api';
import type { ProjectStream, StreamEvent } from '@/lib/ProjectStream';
import { errorMessage, trpc } from '@/lib/trpc';
import { typingElsewhere } from '@/lib/focus';
import { findFileLinks } from '@/lib/ide/fileLinks';
import { useFileNavigation } from '@/lib/ide/FileNavigation';
import '@xterm/xterm/css/xterm.css';

export interface TerminalPaneProps {
  projectId: string;
  terminal: TerminalView;
  stream: ProjectStream;
  /** Editors type; viewers watch (the server refuses their writes anyway). */
  canType: boolean;
  active: boolean;
  onError: (message: string) => void;
}

const THEME = {
  background: '#0f1115', foreground: '#e6e9ef', cursor: '#6d8cff', cursorAccent: '#0f1115',
  selectionBackground: 'rgba(109,140,255,.35)',
};
const MAX_WRITE_CHARS = 60_000;

/**
 * One shared terminal in xterm.js. Output comes from the project's stream; on mount (a reload, a
 * late joiner) the server's scrollback is written first and the stream continues from its `end`.
 * Keystrokes go out one request at a time (typed-ahead input is sent together), so they keep
 * their order. The pty has one size for everyone: an editor's panel size sets it (only when that
 * panel changes size, so two editors never fight), everyone's xterm follows.
 */
export function TerminalPane({ projectId, terminal, stream, canType, active, onError }: TerminalPaneProps) {
  const host = useRef<HTMLDivElement>(null);
  const xterm = useRef<{ term: Terminal; fit: FitAddon } | null>(null);
  const canTypeRef = useRef(canType);
  canTypeRef.current = canType;
  const activeRef = useRef(active);
  activeRef.current = active;
  const nav = useFileNavigation();
  const navRef = useRef(nav);
  navRef.current = nav;
  const sizeRef = useRef({ cols: terminal.cols, rows: terminal.rows });
  sizeRef.current = { cols: terminal.cols, rows: terminal.rows };
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;
  const proposeResizeRef = useRef<() => void>(() => {});
  const terminalId = terminal.id;

  useEffect(() => {
    let disposed = false;
    let end = -1; // characters written; -1 while the scrollback is being fetched
    const pending: TerminalData[] = [];
    let input = '';
    let sending = false;
    let resizeTimer: ReturnType<typeof setTimeout> | null = null;

    const apply = (d: TerminalData) => {
      const term = xterm.current?.term;
      if (!term || d.end <= end) return;
      if (d.end - d.data.length !== end) return void reattach(); // missed output: start over
      term.write(d.data);
      end = d.end;
    };
    const reattach = async () => {
      end = -1;
      try {
        const snap = await trpc.sandbox.terminals.scrollback.query({ projectId, terminalId });
        const term = xterm.current?.term;
        if (disposed || !term) return;
        term.reset();
        term.write(snap.data);
        end = snap.end;
        for (const d of pending.splice(0)) apply(d);
      } catch {
        // The terminal is gone (exited meanwhile): its exit event updates the tab.
      }
    };
    const onData = (e: StreamEvent<'sandbox.terminalData'>) => {
      const d = e.data;
      if (d.terminalId !== terminalId) return;
      if (end < 0) pending.push(d);
      else apply(d);
    };
    const send = async () => {
      if (sending) return;
      sending = true;
      while (input && !disposed) {
        const data = input.slice(0, MAX_WRITE_CHARS);
        input = input.slice(data.length);
        try {
          await trpc.sandbox.terminals.write.mutate({ projectId, terminalId, data });
        } catch (e) {
          input = '';
          onErrorRef.current(errorMessage(e));
        }
      }
      sending = false;
    };
    const proposeResize = () => {
      const x = xterm.current;
      if (!x || !canTypeRef.current || !activeRef.current) return;
      const dims = x.fit.proposeDimensions();
      if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows) || dims.cols < 2 || dims.rows < 1) return;
      const cols = Math.min(1000, Math.floor(dims.cols));
      const rows = Math.min(500, Math.floor(dims.rows));
      if (cols === sizeRef.current.cols && rows === sizeRef.current.rows) return;
      if (resizeTimer) clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        trpc.sandbox.terminals.resize.mutate({ projectId, terminalId, cols, rows }).catch(() => {});
      }, 150);
    };

    const offs = [
      stream.on('sandbox.terminalData', onData),
      stream.on('resync', () => void reattach()),
      stream.onState((s) => s === 'live' && void reattach()),
    ];
    proposeResizeRef.current = proposeResize;
    const observer = new ResizeObserver(() => proposeResize());

    void (async () => {
      const [{ Terminal: XTerm }, { FitAddon: Fit }] = await Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]);
      if (disposed || !host.current) return;
      const term = new XTerm({
        cols: sizeRef.current.cols, rows: sizeRef.current.rows, theme: THEME, fontSize: 13, lineHeight: 1.15,
        fontFamily: "ui-monospace, 'SFMono-Regular', 'DejaVu Sans Mono', Menlo, Consolas, monospace",
        cursorBlink: canTypeRef.current, disableStdin: !canTypeRef.current, scrollback: 5000, allowProposedApi: false,
      });
      const fit = new Fit();
      term.loadAddon(fit);
      // file:line[:col] in the output opens the file there (lines as shown; wrapped ones are not joined).
      term.registerLinkProvider({
        provideLinks(y, callback) {
          const nav = navRef.current;
          const text = term.buffer.active.getLine(y - 1)?.translateToString(true) ?? '';
          if (!nav) return callback(undefined);
          const links = findFileLinks(text, nav.fileIdAt);
          callback(links.length === 0 ? undefined : links.map((l) => ({
            range: { start: { x: l.start + 1, y }, end: { x: l.end, y } },
            text: text.slice(l.start, l.end),
            activate: () => nav.openAt(l.fileId, l.line, l.column),
          })));
        },
      });
      term.open(host.current);
      xterm.current = { term, fit };
      term.onData((data) => {
        if (!canTypeRef.current) return;
        input += data;
        void send();
      });
      observer.observe(host.current);
      await reattach();
      if (activeRef.current && canTypeRef.current && !typingElsewhere(host.current)) term.focus();
    })();

    return () => {
      disposed = true;
      offs.forEach((off) => off());
      observer.disconnect();
      if (resizeTimer) clearTimeout(resizeTimer);
      xterm.current?.term.dispose();
      xterm.current = null;
    };
  }, [projectId, terminalId, stream]);

  // Everyone's xterm has the pty's size.
  useEffect(() => {
    const term = xterm.current?.term;
    if (term && (term.cols !== terminal.cols || term.rows !== terminal.rows)) term.resize(terminal.cols, terminal.rows);
  }, [terminal.cols, terminal.rows]);

  useEffect(() => {
    const term = xterm.current?.term;
    if (!term) return;
    term.options.disableStdin = !canType;
    term.options.cursorBlink = canType;
  }, [canType]);

  // Showing the tab (or becoming an editor) may mean this panel's size should become the pty's.
  useEffect(() => {
    if (!active || !canType) return;
    xterm.current?.term.focus();
    proposeResizeRef.current();
  }, [active, canType]);

  useEffect(() => {
    if (terminal.exited) xterm.current?.term.write(`\r\n\x1b[2m[process exited${terminal.exitCode !== null ? ` with code ${terminal.exitCode}` : ''}]\x1b[0m\r\n`);
  }, [terminal.exited, terminal.exitCode]);

  // Inactive panes stay laid out (invisible), so xterm can measure its cells at any time.
  return <div className={`sbx-terminal${active ? '' : ' inactive'}`} ref={host} data-testid="terminal" data-terminal-id={terminal.id} data-can-type={canType ? 'true' : 'false'} aria-hidden={!active} />;
}

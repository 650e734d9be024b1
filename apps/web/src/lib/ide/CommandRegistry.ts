'use client';
import { createContext, useContext, useEffect, useRef } from 'react';

/** One entry of the command palette (Ctrl+Shift+P). */
export interface IdeCommand {
  id: string;
  label: string;
  /** Shown at the right, e.g. "Ctrl+K". */
  keybinding?: string;
  /** False: listed greyed out with `disabledReason`. */
  enabled?: boolean;
  disabledReason?: string;
  run(): void;
}

/**
 * The IDE's commands, contributed by the components that own them (the sandbox panel owns Run,
 * the workspace owns its panels…), so the palette never reaches into another component's state.
 */
export class CommandRegistry {
  private readonly sources = new Map<symbol, readonly IdeCommand[]>();

  set(source: symbol, commands: readonly IdeCommand[]): void {
    this.sources.set(source, commands);
  }

  remove(source: symbol): void {
    this.sources.delete(source);
  }

  list(): IdeCommand[] {
    return [...this.sources.values()].flat().sort((a, b) => a.label.localeCompare(b.label));
  }
}

export const CommandRegistryContext = createContext<CommandRegistry | null>(null);

/** Contributes `commands` to the palette while the calling component is mounted (latest wins). */
export function useIdeCommands(commands: readonly IdeCommand[]): void {
  const registry = useContext(CommandRegistryContext);
  const source = useRef<symbol>(undefined);
  source.current ??= Symbol('commands');
  const key = source.current;
  // Commands close over fresh state each render: replace them every render (cheap, no re-render).
  registry?.set(key, commands);
  useEffect(() => () => registry?.remove(key), [registry, key]);
}

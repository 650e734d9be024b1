export { SandboxHost, type SandboxHostOptions, type RunOptions, type SpawnOptions } from './SandboxHost.ts';
export { type IsolationReport, type SandboxLogger } from './isolation.ts';
export { SandboxRun, type RunResult, type RunEndReason } from './SandboxRun.ts';
export { SandboxProcess, type ProcessExit } from './SandboxProcess.ts';
export { SandboxTerminal, MAX_TERMINAL_WRITE_CHARS, type TerminalSize, type TerminalExit } from './SandboxTerminal.ts';
export { DEFAULT_LIMITS, type SandboxLimits } from './SandboxLimits.ts';
export {
  DEFAULT_GENERATED_LIMITS, ENVIRONMENT_DIRS,
  type ProjectFile, type SyncResult, type GeneratedFile, type GeneratedBinaryFile, type GeneratedFilesResult, type GeneratedFilesLimits,
} from './WorkingCopy.ts';
export { type OutputChunk, type OutputStream } from './OutputCoalescer.ts';
export { resolveRunCommand, type ResolvedRunCommand } from './resolveRunCommand.ts';
export { SANDBOX_PROJECT_DIR } from './sandboxCommand.ts';
export { type DiskUsage } from './ProjectDisks.ts';
export { EgressProxy, type EgressProxyOptions, type EgressRefusal, type ResolveHost } from './net/EgressProxy.ts';
export { DEFAULT_EGRESS_BUDGET, type EgressBudgetLimits } from './net/EgressBudget.ts';
export {
  parseAllowEntry, parseAllowList, formatAllowEntry, withinCeiling, allowEntryMatches, type AllowEntry,
} from './net/EgressAllowlist.ts';
export { SandboxNetwork, type SandboxNetworkOptions } from './net/SandboxNetwork.ts';
export { discoverRegistries, type RegistryConfig } from './net/registryConfig.ts';
export { isPublicAddress } from './net/publicAddress.ts';

export { appRouter, createCaller, projectHomeProcedures, type AppRouter } from './root.ts';
export type { Context, ProjectEvents, Services } from './trpc.ts';
export { writeEventStream, type SseResponse } from './routers/EventStreamWriter.ts';
export { MembershipCache } from './MembershipCache.ts';
export { EventHub, projectChannel, tabChannel, type EventBus, type HubEvent } from './EventHub.ts';
export { TEMPLATES, TEMPLATE_IDS, type TemplateId } from './templates.ts';
export { AiService, DEFAULT_AI_LIMITS, type AiLimits, type AiServiceOptions, type ProjectAiStatus } from './ai/AiService.ts';
export { COMPLETION_EVENT, type CompletionEvent, type CompletionError, type CompletionMetrics } from './ai/completionEvents.ts';
export { COMPLETION_BUDGET, type CompletionContext } from './ai/completionPrompt.ts';
export { SuggestionService, type SuggestionServiceOptions, type SuggestionDocuments, type ReviewActor } from './suggestions/SuggestionService.ts';
export {
  SUGGESTION_EVENT, FRAME_EVENT, type SuggestionView, type SuggestionFrame, type DisplayHunk, type CompactDisplayHunk, type HunkView,
  type UserRef, type LiveMetrics, type ActivityEntry, type ActivityEvent, type ApprovalPolicyView,
} from './suggestions/suggestionEvents.ts';
export { SandboxService, type SandboxServiceOptions, type SandboxStatus, type GeneratedFileView } from './sandbox/SandboxService.ts';
export { type RunCommandSource } from './sandbox/RunSessions.ts';
export { LiveProjectFiles, type ProjectDocuments } from './sandbox/LiveProjectFiles.ts';
export { ProjectBlobs, type ProjectBlobsOptions, type BinaryDownload } from './files/ProjectBlobs.ts';
export {
  RUN_EVENT, RUN_OUTPUT_EVENT, TERMINAL_EVENT, TERMINAL_DATA_EVENT, GENERATED_EVENT, QUEUE_EVENT,
  type GeneratedImported, type SandboxQueued, type RunView, type RunStatus, type RunOutput, type RunOutputSnapshot, type TerminalView, type TerminalData, type TerminalScrollback,
} from './sandbox/sandboxEvents.ts';
export { ProjectSearch, ProjectReplaceOrigin, type ReplaceResult } from './search/ProjectSearch.ts';
export { SearchWorkers } from './search/SearchWorkers.ts';
export type { SearchOutcome, FileMatch, SearchQuery } from './search/findMatches.ts';
export { CommentService, COMMENT_EVENT, COMMENT_LIMITS, type CommentThreadView } from './comments/CommentService.ts';
export { NetworkService, type NetworkServiceOptions } from './network/NetworkService.ts';
export { PreviewTokens, type PreviewClaims } from './network/PreviewTokens.ts';
export { PREVIEWS_EVENT, type PreviewTarget, type PreviewsChanged } from './network/networkEvents.ts';
export { AgentService, type AgentServiceOptions } from './agent/AgentService.ts';
export { parseAcpAgents, type AcpAgentConfig } from './agent/acp/acpAgents.ts';
export { parseAgentPolicy, isForbiddenPath, commandAllowed, mayStartOrSteer } from './agent/agentPolicy.ts';
export { LanguageServers, type LanguageServersOptions, type LspConnection, type LspSocket } from './lsp/LanguageServers.ts';
export { DEFAULT_LSP_LIMITS, type LspLimits } from './lsp/lspLimits.ts';
export { HistoryService, type HistoryDocuments, type EditOptions, type AuthorView, type BlameRangeView } from './history/HistoryService.ts';
export { GitImport, GIT_IMPORT_LIMITS, type GitImportResult } from './history/GitImport.ts';
export { GitPush, DEFAULT_PUSH_BRANCH, type GitRemoteView } from './history/GitPush.ts';
export { DEFAULT_GIT_REMOTE_POLICY, type GitRemotePolicy } from './history/gitCli.ts';
export { TimeTravel, TIME_TRAVEL_LIMITS, type FileTimelineView, type StepView, type SessionView, type VersionView, type ProjectSessionView, type ProjectStepView, type ProjectTimelineView, type ProjectFileRef } from './history/TimeTravel.ts';
export { CheckpointService, CHECKPOINT_LIMITS, type CheckpointView, type CheckpointReason, type CheckpointComparison } from './history/CheckpointService.ts';

export { APP_ERROR_CODES, AppError, isAppError, type AppErrorCode } from './AppError.ts';
export { CLOSE_CODES, isFinalCloseCode, type CloseCode } from './closeCodes.ts';
export { ROLES, roleAtLeast, canWrite, type Role } from './roles.ts';
export {
  SYNC_PATH_PREFIX, TREE_MAP, FILE_TEXT, MAX_FILE_BYTES, MAX_BINARY_FILE_BYTES,
  isBinaryEntry, contentTypeForPath, isImagePath, treeDocName, fileDocName, parseDocName, type DocumentRef, type TreeEntry,
} from './documents.ts';
export { normalizeProjectPath, languageForPath, looksBinary } from './paths.ts';
export type { ProjectStreamEvents, ProjectStreamEventName, ProjectStreamMessage } from './streamEvents.ts';
export { TRPC_MAX_BATCH, safeNextPath } from './navigation.ts';
export { resolveTreeEntries } from './treeEntries.ts';
export {
  AGENT_RUN_STATUSES, AGENT_LIVE_STATUSES, AGENT_PERMISSION_OPTIONS, DEFAULT_AGENT_POLICY, AGENT_EVENTS, toAcpUpdate,
  type AgentRunStatus, type AgentUserRef, type AcpToolKind, type AcpToolStatus, type AgentCommandResult, type AgentItem, type AgentPlanEntry,
  type AgentPermissionOption, type AgentTurnMetrics, type AgentHunkStatus, type AgentHunkDecision, type AgentHunkView,
  type AgentFileView, type AgentChangesetView, type AgentRunView, type AgentPolicy, type AgentItemEvent, type AgentDeltaEvent,
  type AgentOutputEvent, type AcpSessionUpdate,
} from './agent.ts';
export { LSP_PYTHON_PATH_PREFIX, LSP_PROJECT_URI_PREFIX, lspUriPath, lspUriOf } from './languageServer.ts';

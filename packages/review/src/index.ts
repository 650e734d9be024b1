export {
  SUGGESTION_STATUSES, TERMINAL_STATUSES, SUGGESTION_EVENT_TYPES, TRANSITION_RULES, REFUSAL_RULES,
  transition, ruleFor, isTerminal, initialSuggestionState, parseSuggestionState,
  type SuggestionStatus, type SuggestionEventType, type SuggestionEvent, type SuggestionState,
  type HunkDecision, type HunkReview, type Actor, type TransitionContext, type TransitionResult,
  type TransitionRule, type TransitionRuleId, type RefusalRuleId,
} from './suggestionMachine.ts';
export {
  anyEditor, ownerOnly, nApprovals, parseApprovalPolicy, approvalsRequired, mayReview, canDecide,
  MAX_REQUIRED_APPROVALS, type ApprovalPolicy,
} from './approvalPolicy.ts';
export { computeHunks, applyHunksToText, rebaseHunks, assertHunksFit, type Hunk, type ComputeHunksOptions } from './hunks.ts';
export {
  createAnchor, resolveAnchor, checkAnchor, anchoredText, reanchor,
  type Anchor, type AnchorRange, type AnchorStatus,
} from './anchor.ts';
export { applyHunks, type ApplyHunksResult } from './applyHunks.ts';
export { AiEditOrigin, createAiEditUndoManager } from './AiEditOrigin.ts';
export {
  anchorFileEdit, anchorHunks, hunkStatus, overlayText, applyChangesetHunk, reviewIndices, assertFileChange,
  type ChangesetHunk, type FileChange, type FileChangeKind, type HunkStatus,
} from './changeset.ts';

export { ownerOf, type Author } from './authors.ts';
export {
  BURST_GAP_MS, DocumentHistory, SPAN_WINDOW_MS, deletionKey, freshClientId, writtenClients,
  type DecodedUpdate, type Deleter, type DeletionBatch, type DeletionSpan, type HistoryChanges, type Span, type StoredHistory,
} from './DocumentHistory.ts';
export { blameLines, charRuns, type BlameRange, type CharRun } from './blame.ts';
export { decodeDeletions, deletedCount, encodeDeletions } from './deletionCodec.ts';
export { FileTimeline, SESSION_GAP_MS, type TimelineSession, type TimelineStep } from './timeline.ts';
export { PROJECT_BURST_MS, ProjectTimeline, type FileChange, type ProjectSession, type ProjectStep, type ProjectStepFile } from './projectTimeline.ts';

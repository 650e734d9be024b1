export { ownerOf, type Author } from './authors.ts';
export {
  DocumentHistory, SPAN_WINDOW_MS, freshClientId, writtenClients,
  type DecodedUpdate, type Deleter, type DeletionSpan, type HistoryChanges, type Span, type StoredHistory,
} from './DocumentHistory.ts';
export { blameLines, charRuns, type BlameRange, type CharRun } from './blame.ts';

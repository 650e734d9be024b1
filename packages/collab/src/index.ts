export { SyncServer, ROLE_CHANGED_CLOSE_CODE, type SyncServerOptions, type SyncServerStats } from './SyncServer.ts';
export { DEFAULT_LIMITS, DEFAULT_TUNING, type SyncLimits, type SyncTuning } from './SyncSettings.ts';
export type { DocumentStore, StoredDocument } from './DocumentStore.ts';
export { MemoryDocumentStore } from './MemoryDocumentStore.ts';
export { FileDocumentStore } from './FileDocumentStore.ts';
export { RedisDocumentBus, type DocumentBus, type DocumentBusMessage, type BusChange } from './DocumentBus.ts';
export { RedisPubSub, type RedisPubSubOptions } from './RedisPubSub.ts';
export { mergeUpdates } from './projectDocuments.ts';
export type {
  AuthenticateHook, AuthenticatePayload, AuthenticatedSession, ChangeOrigin, ChangePayload, DisconnectPayload,
  LoadDocumentPayload, StoreDocumentPayload, SyncExtension, SyncLogger, SyncUser, ValidateUpdateHook, ValidateUpdatePayload,
} from './SyncExtension.ts';
export { systemTimers, type TimerHandle, type Timers } from './Timers.ts';
export { limitTreeEntries, treeChange, type TreeChange } from './treeLimits.ts';
export { countItems, type DecodedUpdate } from './clientUpdate.ts';
export { textOf, treeOf, encodeTextDocument, encodeTreeDocument, docFromUpdates, readText, readTree } from './projectDocuments.ts';

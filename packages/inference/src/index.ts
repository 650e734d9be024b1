export type {
  ChatRole, ChatMessage, ToolCall, ToolDefinition, ChatRequest, FimRequest, InferenceRequest, FinishReason, InferenceChunk,
  ProviderKind, ProviderInfo, InferenceProvider,
} from './types.ts';
export { InferenceError, isInferenceError, type InferenceErrorKind } from './InferenceError.ts';
export { OpenAICompatibleProvider, DEFAULT_TIMEOUTS, parseRetryAfter, type OpenAICompatibleConfig } from './OpenAICompatibleProvider.ts';
export { LocalLlamaProvider, defaultThreads, type LocalLlamaConfig } from './LocalLlamaProvider.ts';
export {
  createProvidersFromConfig, type InferenceConfig, type ProviderConfig, type ProviderRegistry,
} from './createProvidersFromConfig.ts';
export { MeteredStream, meter, type StreamMetrics, type StreamOutcome, type MeteredStreamOptions } from './MeteredStream.ts';
export { FIM_FORMATS, fimWireFields, type FimFormat } from './fimPrompt.ts';
export { SseParser, type SseDataHandler } from './SseParser.ts';
export type { WatchdogLimits } from './StreamWatchdog.ts';

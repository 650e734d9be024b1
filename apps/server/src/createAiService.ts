import { AiService } from '@tandem/api';
import type { AiServiceOptions, EventHub } from '@tandem/api';
import { createProvidersFromConfig, LocalLlamaProvider, type ProviderRegistry } from '@tandem/inference';
import type { Env } from './env.ts';

/** What users see when no provider is configured: exactly what the operator has to set. */
export const AI_NOT_CONFIGURED =
  'No AI provider is configured on this server. To enable AI, set OPENAI_BASE_URL and OPENAI_MODEL ' +
  '(plus OPENAI_API_KEY for hosted APIs), or TANDEM_LOCAL_MODEL_PATH to a GGUF code model, ' +
  'or TANDEM_AI_PROVIDERS, in the server environment and restart it (README → AI providers).';

/**
 * Creates the deployment's providers and the AI service. A local model starts loading in the
 * background so its load time stays out of the first completion's TTFT.
 */
export function createAiService(env: Env, hub: EventHub, options: Pick<AiServiceOptions, 'forwardCancel' | 'forwardSettingsChanged' | 'rateStore'> = {}): AiService {
  let registry: ProviderRegistry;
  try {
    registry = createProvidersFromConfig(env.ai);
  } catch (e) {
    throw new Error(`Invalid AI provider configuration: ${(e as Error).message}`);
  }
  for (const info of registry.list()) {
    const provider = registry.get(info.id);
    if (provider instanceof LocalLlamaProvider) {
      provider.load().catch((e: unknown) => console.error(`[ai] could not load ${info.label}: ${(e as Error).message}`));
    }
  }
  return new AiService({ registry, hub, notConfiguredHint: AI_NOT_CONFIGURED, maxCompletionTokens: env.TANDEM_AI_COMPLETION_MAX_TOKENS, ...options });
}

import { AppError } from '@tandem/protocol';
import { LocalLlamaProvider, type LocalLlamaConfig } from './LocalLlamaProvider.ts';
import { OpenAICompatibleProvider, type OpenAICompatibleConfig } from './OpenAICompatibleProvider.ts';
import { FIM_FORMATS } from './fimPrompt.ts';
import type { InferenceProvider, ProviderInfo } from './types.ts';

export type ProviderConfig = OpenAICompatibleConfig | LocalLlamaConfig;

/** Built by the app's env module; this package never reads `process.env`. */
export interface InferenceConfig {
  providers: readonly ProviderConfig[];
  /** Id of the provider to use when the caller names none; default: the first one. */
  defaultProviderId?: string;
}

export interface ProviderRegistry {
  /** Configured providers, in config order. Empty when none are configured (a valid state). */
  list(): ProviderInfo[];
  get(id: string): InferenceProvider | undefined;
  /** Like `get`, but throws a user-safe NOT_FOUND `AppError` for an unknown id. */
  require(id: string): InferenceProvider;
  /** The default provider, or undefined when none are configured. */
  defaultProvider(): InferenceProvider | undefined;
  /** Disposes every provider (closes streams, frees local models). */
  dispose(): Promise<void>;
}

const ID = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Validates `config` and creates one provider per entry. Throws `AppError('BAD_INPUT')` naming
 * the offending entry (never echoing an API key) so a misconfigured server fails at startup.
 * Creating providers is cheap: nothing connects and no model loads until first use.
 */
export function createProvidersFromConfig(config: InferenceConfig): ProviderRegistry {
  const providers = new Map<string, InferenceProvider>();
  for (const [index, entry] of config.providers.entries()) {
    validate(entry, index);
    if (providers.has(entry.id)) invalid(index, `duplicate provider id "${entry.id}"`);
    providers.set(entry.id, entry.kind === 'openai-compatible' ? new OpenAICompatibleProvider(entry) : new LocalLlamaProvider(entry));
  }
  if (config.defaultProviderId !== undefined && !providers.has(config.defaultProviderId)) {
    throw new AppError('BAD_INPUT', `Inference config: default provider "${config.defaultProviderId}" is not configured.`);
  }
  const defaultId = config.defaultProviderId ?? providers.keys().next().value;
  return {
    list: () => [...providers.values()].map((p) => p.info),
    get: (id) => providers.get(id),
    require(id) {
      const provider = providers.get(id);
      if (!provider) throw new AppError('NOT_FOUND', 'That AI provider is not configured on this server.', `unknown provider id ${id}`);
      return provider;
    },
    defaultProvider: () => (defaultId === undefined ? undefined : providers.get(defaultId)),
    async dispose() {
      await Promise.allSettled([...providers.values()].map((p) => p.dispose()));
    },
  };
}

function validate(entry: ProviderConfig, index: number): void {
  if (typeof entry.id !== 'string' || !ID.test(entry.id)) invalid(index, 'id must be 1-64 letters, digits, ".", "_" or "-"');
  if (entry.kind === 'openai-compatible') {
    let url: URL;
    try {
      url = new URL(entry.baseUrl);
    } catch {
      return invalid(index, 'baseUrl is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') invalid(index, 'baseUrl must be http(s)');
    if (!entry.model) invalid(index, 'model is required');
    if (entry.fimFormat !== undefined && !FIM_FORMATS.includes(entry.fimFormat)) invalid(index, `fimFormat must be one of ${FIM_FORMATS.join(', ')}`);
    for (const [name, ms] of Object.entries(entry.timeouts ?? {})) {
      if (typeof ms !== 'number' || ms < 0) invalid(index, `timeouts.${name} must be a non-negative number of ms`);
    }
  } else if (entry.kind === 'local-llama') {
    if (!entry.modelPath) invalid(index, 'modelPath is required');
    for (const key of ['contextSize', 'threads', 'batchSize', 'defaultMaxTokens'] as const) {
      const v = entry[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) invalid(index, `${key} must be a positive integer`);
    }
  } else {
    invalid(index, `unknown kind "${(entry as { kind?: unknown }).kind}"`);
  }
}

function invalid(index: number, problem: string): never {
  throw new AppError('BAD_INPUT', `Inference config: provider #${index + 1}: ${problem}.`);
}

import { AppError, type AppErrorCode } from '@tandem/protocol';

/**
 * Why an inference request failed. Each kind is distinct so the app can react differently
 * (ask for a new key, back off, switch provider, retry) and so tests can tell them apart.
 */
export type InferenceErrorKind =
  /** 401/403: the provider refused the credentials. */
  | 'auth'
  /** 429: back off; `retryAfterMs` set when the provider said how long. */
  | 'rate_limited'
  /** 5xx, or an error object sent inside the stream. */
  | 'provider'
  /** Other 4xx: the provider refused this request (bad parameter, context too long, …). */
  | 'bad_request'
  /** 404: wrong base URL, model name, or an endpoint this server does not have. */
  | 'not_found'
  /** DNS failure, connection refused, TLS failure: nothing answered. */
  | 'unreachable'
  /** Connected, but no response headers within the connect timeout. */
  | 'connect_timeout'
  /** Headers arrived, but no generated text within the first-token timeout. */
  | 'first_token_timeout'
  /** Text started, then nothing arrived for longer than the idle timeout. */
  | 'idle_timeout'
  /** The stream contained something that is not valid SSE/JSON of the expected shape. */
  | 'malformed_stream'
  /** The connection closed before the stream said it was done. */
  | 'connection_dropped'
  /** The request asks for something this provider is not configured to do (e.g. FIM). */
  | 'unsupported'
  /** The local model file could not be loaded. */
  | 'model_load'
  /** The provider was disposed. */
  | 'disposed';

const APP_CODE: Record<InferenceErrorKind, AppErrorCode> = {
  auth: 'UNAVAILABLE',
  rate_limited: 'RATE_LIMITED',
  provider: 'UNAVAILABLE',
  bad_request: 'BAD_INPUT',
  not_found: 'UNAVAILABLE',
  unreachable: 'UNAVAILABLE',
  connect_timeout: 'UNAVAILABLE',
  first_token_timeout: 'UNAVAILABLE',
  idle_timeout: 'UNAVAILABLE',
  malformed_stream: 'UNAVAILABLE',
  connection_dropped: 'UNAVAILABLE',
  unsupported: 'BAD_INPUT',
  model_load: 'UNAVAILABLE',
  disposed: 'UNAVAILABLE',
};

/**
 * An `AppError` with a machine-readable `kind`. `message` is safe to show to users (it names
 * the provider by its label, never the key or raw upstream body); `detail` is for logs only.
 * Provider auth failures map to UNAVAILABLE, not UNAUTHENTICATED: the *user* is signed in fine.
 */
export class InferenceError extends AppError {
  readonly kind: InferenceErrorKind;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    kind: InferenceErrorKind,
    message: string,
    options: { detail?: string; retryAfterMs?: number; status?: number } = {},
  ) {
    super(APP_CODE[kind], message, options.detail);
    this.name = 'InferenceError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}

export function isInferenceError(e: unknown): e is InferenceError {
  return e instanceof InferenceError;
}

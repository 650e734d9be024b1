/**
 * The server's configuration: the only module that reads process.env. Validated once at start-up;
 * a bad value stops the process with a message naming the variable.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { FIM_FORMATS, type InferenceConfig, type ProviderConfig } from '@tandem/inference';
import { parseAcpAgents, type AcpAgentConfig } from '@tandem/api';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  TANDEM_DATA_DIR: z.string().default(join(REPO_ROOT, '.data')),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  // Several nodes (README → Running several nodes); all three only matter with REDIS_URL.
  /** Prefix of every Redis key and channel: deployments (or test runs) sharing one Redis never meet. */
  TANDEM_REDIS_PREFIX: z.string().min(1).max(100).default('tandem:'),
  /** This node's name in the cluster (logs, leases). Default `<hostname>-<pid>-<random>`. */
  TANDEM_NODE_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only').optional(),
  /** How the other nodes reach this one over HTTP (project calls are forwarded to the project's
   * home node). Default http://<HOST, or 127.0.0.1 when 0.0.0.0>:<port>. */
  TANDEM_NODE_URL: z.string().url().optional(),
  TANDEM_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TANDEM_PUBLIC_URL: z.string().url().optional(),
  // Accounts and sessions (SECURITY.md → Accounts and sessions).
  /** Sign-up attempts allowed per client IP per hour (each costs an Argon2 hash). */
  TANDEM_SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(20),
  /** Failed (or in-flight) sign-ins allowed per client IP per 15 minutes, across accounts. */
  TANDEM_SIGNIN_FAILURES_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(50),
  /** Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client (e.g.
   * `127.0.0.1`). Unset: the client is the TCP peer (behind a proxy every client would share its IP). */
  TANDEM_TRUSTED_PROXIES: z.string().max(2000).optional(),

  /** Set to "false" only when serving over plain HTTP on a non-localhost address. */
  COOKIE_SECURE: z.enum(['true', 'false']).default('true'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),

  // AI providers (see README → AI providers). Keys stay on the server: nothing here reaches a browser.
  /** JSON array of provider configs (@tandem/inference ProviderConfig), for several providers. */
  TANDEM_AI_PROVIDERS: z.string().optional(),
  /** Provider id used by projects that chose none. Default: the first configured. */
  TANDEM_AI_DEFAULT_PROVIDER: z.string().optional(),
  /** One OpenAI-compatible server (OpenAI, Cerebras, Groq, vLLM, llama.cpp, Ollama, LM Studio). */
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_MODEL: z.string().optional(),
  OPENAI_LABEL: z.string().max(64).optional(),
  /** "true": the server has /completions with fill-in-the-middle for this model. */
  OPENAI_FIM: z.enum(['true', 'false']).default('false'),
  OPENAI_FIM_FORMAT: z.enum(FIM_FORMATS).optional(),
  /** A GGUF code model run in-process by node-llama-cpp (CPU). */
  TANDEM_LOCAL_MODEL_PATH: z.string().optional(),
  TANDEM_LOCAL_MODEL_FIM: z.enum(['true', 'false']).default('true'),
  TANDEM_LOCAL_MODEL_THREADS: z.coerce.number().int().min(1).max(256).optional(),
  /** Upper bound on the tokens of one inline completion. */
  TANDEM_AI_COMPLETION_MAX_TOKENS: z.coerce.number().int().min(1).max(1_000_000).default(256),

  // Sandboxes (see packages/sandbox/README.md → Limits). Unset limits use the package defaults.
  /** Working copies of projects for runs and terminals. Default <TANDEM_DATA_DIR>/sandboxes (or a
   * folder in the system temp dir when the data dir's parents are private). It and its parents
   * must be searchable (o+x) by the sandbox uid 65534. */
  TANDEM_SANDBOX_DIR: z.string().optional(),
  /** "true" runs code WITHOUT isolation when bubblewrap/cgroups are missing. Single-user local
   * development only; logged loudly at start-up and on every run. */
  TANDEM_ALLOW_UNSANDBOXED: z.enum(['true', 'false']).default('false'),
  TANDEM_SANDBOX_MEMORY_MB: z.coerce.number().int().min(16).max(1024 * 1024).optional(),
  TANDEM_SANDBOX_MAX_PROCESSES: z.coerce.number().int().min(8).max(1_000_000).optional(),
  TANDEM_SANDBOX_CPUS: z.coerce.number().min(0.01).max(1024).optional(),
  TANDEM_SANDBOX_RUN_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(24 * 3600).optional(),
  TANDEM_SANDBOX_OUTPUT_KB: z.coerce.number().int().min(1).max(1024 * 1024).optional(),
  // Project environments (branch sbxdisk): each project's working copy, installed packages,
  // caches and /tmp live on its own loop-mounted ext4 image of this size (needs root + loop
  // devices; otherwise plain directories without a quota, logged at start-up).
  /** Per-project disk quota in MiB, over everything the project writes. Default 1024; 0 = off. */
  TANDEM_SANDBOX_DISK_MB: z.coerce.number().int().refine((n) => n === 0 || (n >= 16 && n <= 1024 * 1024), 'TANDEM_SANDBOX_DISK_MB must be 0 (off) or 16..1048576').default(1024),
  // Abuse limits: one user or IP must not take the server down (SECURITY.md, "Browser-facing and
  // abuse limits"). Time for a client to send a request's headers / its whole request (slowloris).
  TANDEM_HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TANDEM_HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /** Open TCP connections per client IP (HTTP, SSE and WebSockets together); 0 disables (behind a
   * reverse proxy every client has the proxy's address: let the proxy limit per IP instead). */
  TANDEM_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).max(1_000_000).default(256),
  /** Entries (files and folders) in one project's tree; tree updates beyond it are refused. */
  TANDEM_MAX_FILES_PER_PROJECT: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  /** Largest binary file (image, font…) one upload or run may add, in KiB; and all binary files of a project together, in MiB. */
  TANDEM_MAX_BINARY_FILE_KB: z.coerce.number().int().min(1).max(1024 * 1024).default(10 * 1024),
  TANDEM_MAX_BINARY_MB_PER_PROJECT: z.coerce.number().int().min(1).max(1024 * 1024).default(200),
  /** Stored documents per project (deleted files' documents count; see ProjectDocumentCap). */
  TANDEM_MAX_DOCUMENTS_PER_PROJECT: z.coerce.number().int().min(1).max(10_000_000).default(20_000),
  TANDEM_CHECKPOINTS_KEPT: z.coerce.number().int().min(0).max(10_000).default(200),
  // Git import and push (README → Git).
  /** Comma-separated git hosts (`name` or `name:port`) that may be on a private network or loopback
   * and use plain http (an on-premises git server). Every other host must be public and https. */
  TANDEM_GIT_PRIVATE_HOSTS: z.string().max(2000).default(''),
  /** Time one clone / push may take, in seconds. */
  TANDEM_GIT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Largest repository pack an import or push may fetch, in MiB. */
  TANDEM_GIT_MAX_FETCH_MB: z.coerce.number().int().min(1).max(10_240).default(64),
  /** Size of one synced document (its encoded Yjs state), in KiB; updates beyond it are refused. */
  TANDEM_MAX_DOCUMENT_KB: z.coerce.number().int().min(16).max(1024 * 1024).default(4096),
  /** Bytes of document updates one user may send per second across connections (KiB), and burst. */
  TANDEM_SYNC_USER_KB_PER_SECOND: z.coerce.number().int().min(1).max(1024 * 1024).default(1024),
  TANDEM_SYNC_USER_BURST_KB: z.coerce.number().int().min(1).max(1024 * 1024).default(16 * 1024),
  /** Runs and terminals one user may have open (or waiting) at once across projects. */
  TANDEM_SANDBOX_MAX_PER_USER: z.coerce.number().int().min(1).max(10_000).default(4),
  /** Runs and terminals the host runs at once (all users); further starts wait in a fair queue. */
  TANDEM_SANDBOX_MAX_SESSIONS: z.coerce.number().int().min(1).max(100_000).default(32),
  /** Starts that may wait for a free sandbox at once, and how long one waits before it is refused. */
  TANDEM_SANDBOX_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(64),
  TANDEM_SANDBOX_QUEUE_SECONDS: z.coerce.number().min(1).max(3600).default(60),
  /** A terminal nobody typed into for this long is closed. */
  TANDEM_SANDBOX_TERMINAL_IDLE_MINUTES: z.coerce.number().min(0.05).max(7 * 24 * 60).default(15),
  /** Python language servers (pyright, ~100-300 MB each, in the project's sandbox) alive at once on this node. */
  TANDEM_LSP_MAX_SERVERS: z.coerce.number().int().min(0).max(1000).default(4),
  /** A language server no tab uses is stopped after this long. */
  TANDEM_LSP_IDLE_SECONDS: z.coerce.number().min(1).max(24 * 3600).default(60),

  // Sandbox network and preview (README → Sandbox network and preview).
  /** "false": sandboxes get no network at all (no egress proxy, no preview). */
  TANDEM_SANDBOX_NETWORK: z.enum(['true', 'false']).default('true'),
  /** Hosts every project's sandbox may reach, comma-separated (host, *.domain, host:port), on top
   * of the registries read from the server's npm and pip configuration at start-up. */
  TANDEM_EGRESS_ALLOW_HOSTS: z.string().default(''),
  /** The most a project owner may add for their project (same syntax). Empty: owners add nothing. */
  TANDEM_EGRESS_PROJECT_CEILING: z.string().default(''),
  /** Bytes one project's sandboxes may move through the egress proxy per minute (MiB; a burst of
   * this much, then this much per minute), and one run or terminal in its whole life. */
  TANDEM_EGRESS_MB_PER_MINUTE: z.coerce.number().int().min(1).max(1024 * 1024).default(512),
  TANDEM_EGRESS_MB_PER_SESSION: z.coerce.number().int().min(1).max(1024 * 1024 * 1024).default(4096),
  /** Port of the preview origin (apps running in sandboxes). Default PORT+1; 0 picks a free port. */
  TANDEM_PREVIEW_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Public URL of a preview, with {id} standing for "<projectId>-<port>", e.g.
   * https://{id}.preview.example.com behind a reverse proxy. Default http://{id}.localhost:<preview port>. */
  TANDEM_PREVIEW_URL: z.string().regex(/^https?:\/\/\{id\}\.[A-Za-z0-9.-]+(:\d+)?$/, 'must look like https://{id}.preview.example.com').optional(),

  // External agents over ACP (README → External agents).
  /** JSON list of [{ id, label, command, args, env, egressHosts, mounts }]; owners enable them per project. */
  TANDEM_ACP_AGENTS: z.string().max(100_000).optional(),
});

export type Env = z.infer<typeof schema> & {
  secret: string;
  dev: boolean;
  /** False with `--no-web`: API and sync only (benchmarks, API-only deployments). */
  web: boolean;
  webDir: string;
  ai: InferenceConfig;
  /** TANDEM_SANDBOX_DIR, resolved, or its default. */
  sandboxDir: string;
  /** TANDEM_ACP_AGENTS, validated. */
  acpAgents: AcpAgentConfig[];
};

export function loadEnv(source: Record<string, string | undefined> = process.env, argv: string[] = process.argv): Env {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  if (env.REDIS_URL && !env.DATABASE_URL) {
    throw new Error('Invalid configuration:\n  REDIS_URL: several nodes need a shared PostgreSQL DATABASE_URL (the embedded database serves one process only)');
  }
  if (env.REDIS_URL && !env.TANDEM_SECRET) {
    throw new Error('Invalid configuration:\n  REDIS_URL: several nodes need the same TANDEM_SECRET (a generated one differs per node, so sessions would not work across nodes)');
  }
  const dataDir = resolve(env.TANDEM_DATA_DIR);
  let acpAgents: AcpAgentConfig[];
  try {
    acpAgents = parseAcpAgents(env.TANDEM_ACP_AGENTS);
  } catch (e) {
    throw new Error(`Invalid configuration:\n  ${(e as Error).message}`);
  }
  return {
    ...env,
    TANDEM_DATA_DIR: dataDir,
    secret: env.TANDEM_SECRET ?? persistedSecret(dataDir),
    dev: argv.includes('--dev'),
    web: !argv.includes('--no-web'),
    webDir: join(REPO_ROOT, 'apps/web'),
    ai: inferenceConfig(env),
    sandboxDir: resolve(env.TANDEM_SANDBOX_DIR ?? defaultSandboxDir(dataDir)),
    acpAgents,
  };
}

/**
 * The AI providers: TANDEM_AI_PROVIDERS entries first, then the single-provider shortcuts
 * (OPENAI_* and TANDEM_LOCAL_MODEL_PATH). Each entry is checked further when the providers are
 * created at start-up (a bad one stops the server with a message naming it).
 */
function inferenceConfig(env: z.infer<typeof schema>): InferenceConfig {
  const providers: ProviderConfig[] = [];
  if (env.TANDEM_AI_PROVIDERS) {
    let list: unknown;
    try {
      list = JSON.parse(env.TANDEM_AI_PROVIDERS);
    } catch {
      throw new Error('Invalid configuration:\n  TANDEM_AI_PROVIDERS: must be a JSON array of provider objects');
    }
    if (!Array.isArray(list) || !list.every((p) => typeof p === 'object' && p !== null && 'kind' in p && 'id' in p)) {
      throw new Error('Invalid configuration:\n  TANDEM_AI_PROVIDERS: must be a JSON array of objects with "kind" and "id"');
    }
    providers.push(...(list as ProviderConfig[]));
  }
  if (env.OPENAI_BASE_URL || env.OPENAI_MODEL || env.OPENAI_API_KEY) {
    if (!env.OPENAI_MODEL) throw new Error('Invalid configuration:\n  OPENAI_MODEL: required with OPENAI_BASE_URL / OPENAI_API_KEY');
    const baseUrl = env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
    providers.push({
      kind: 'openai-compatible',
      id: 'openai',
      label: env.OPENAI_LABEL ?? `${env.OPENAI_MODEL} at ${new URL(baseUrl).host}`,
      baseUrl,
      model: env.OPENAI_MODEL,
      ...(env.OPENAI_API_KEY ? { apiKey: env.OPENAI_API_KEY } : {}),
      fim: env.OPENAI_FIM === 'true',
      ...(env.OPENAI_FIM_FORMAT ? { fimFormat: env.OPENAI_FIM_FORMAT } : {}),
    });
  }
  if (env.TANDEM_LOCAL_MODEL_PATH) {
    const modelPath = resolve(env.TANDEM_LOCAL_MODEL_PATH);
    if (!existsSync(modelPath)) throw new Error(`Invalid configuration:\n  TANDEM_LOCAL_MODEL_PATH: no file at ${modelPath}`);
    providers.push({
      kind: 'local-llama',
      id: 'local',
      label: `Local model (${basename(modelPath)})`,
      modelPath,
      fim: env.TANDEM_LOCAL_MODEL_FIM === 'true',
      ...(env.TANDEM_LOCAL_MODEL_THREADS ? { threads: env.TANDEM_LOCAL_MODEL_THREADS } : {}),
    });
  }
  return { providers, ...(env.TANDEM_AI_DEFAULT_PROVIDER ? { defaultProviderId: env.TANDEM_AI_DEFAULT_PROVIDER } : {}) };
}

/** A secret generated on first start and kept in the data directory (mode 0600). */
function persistedSecret(dataDir: string): string {
  const file = join(dataDir, 'secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * `<dataDir>/sandboxes` when uid 65534 can reach it; otherwise (a checkout in a private home
 * directory, say) a folder of this data dir's own in the system temp dir. Working copies are
 * rebuilt from the documents on every run, so losing them with /tmp costs nothing.
 */
function defaultSandboxDir(dataDir: string): string {
  const preferred = join(dataDir, 'sandboxes');
  const searchable = (dir: string): boolean => {
    try {
      return (statSync(dir).mode & 0o001) !== 0;
    } catch {
      return true; // created later with the default (traversable) mode
    }
  };
  for (let dir = dataDir; ; dir = dirname(dir)) {
    if (!searchable(dir)) return join(tmpdir(), `tandem-sandboxes-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
    if (dir === dirname(dir)) return preferred;
  }
}

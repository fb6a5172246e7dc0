// The typed configuration of a process (worker, dev stack), parsed once from an environment object:
// Tango, store, failure-class overrides, payload codec, Temporal connection and worker tuning.
// Every problem is a ConfigError naming the variable to fix; nothing else reads the environment.
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import { loadCampaignPolicy } from './activities/policy.ts';
import { type SourceLimits, loadSourceLimits } from './activities/sources.ts';
import type { CampaignPolicy } from './campaign/policy.ts';
import { loadDeliveriesIndexKey } from './deliveries/key.ts';
import { type SpendLimits, loadSpendLimits } from './deliveries/spend-limits.ts';
import type { ErrorClassOverrides } from './campaign/classification.ts';
import { loadErrorClassOverrides } from './input/error-classes-file.ts';
import { type CodecConfig, loadCodecConfig } from './codec/index.ts';
import { DEFAULT_TASK_QUEUE } from './definitions.ts';
import { type NotifyConfig, loadNotifyConfig } from './notify/config.ts';
import { loadStoreConfig, type StoreConfig } from './store/open.ts';
import { ConfigError, isLoopbackUrl, loadTangoConfig, type TangoConfig } from './tango/config.ts';

export { ConfigError };

export type Env = Record<string, string | undefined>;

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface TemporalConfig {
  /** From @temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TOML profile. */
  connection: NativeConnectionOptions & { address: string };
  namespace: string;
  taskQueue: string;
}

export interface WorkerTuning {
  /** Activities one worker runs at once (mostly waiting on Tango and the store). */
  maxConcurrentActivityTaskExecutions: number;
  /** Workflow tasks one worker runs at once (CPU-bound, short). */
  maxConcurrentWorkflowTaskExecutions: number;
  /** Workflows kept in memory between tasks; undefined = the SDK's default, sized from memory. */
  maxCachedWorkflows: number | undefined;
  /** On shutdown, how long in-flight activities get to finish before they are cancelled. */
  shutdownGraceTimeMs: number;
}

export interface MetricsConfig {
  /** Prometheus scrape address (`host:port`, served at /metrics); undefined = metrics off. */
  bindAddress: string | undefined;
}

export interface ProcessConfig {
  tango: TangoConfig;
  store: StoreConfig;
  errorClassOverrides: ErrorClassOverrides;
  codec: CodecConfig;
  temporal: TemporalConfig;
  tuning: WorkerTuning;
  metrics: MetricsConfig;
  logLevel: LogLevel;
  /** CAMPAIGN_SOURCE_*: what scheduled campaigns' sources may read. */
  sources: SourceLimits;
  /** CAMPAIGN_POLICY_FILE / APPROVAL_THRESHOLD_FLOOR: the spending policy. */
  policy: CampaignPolicy;
  /** NOTIFY_*: the notification webhook. */
  notify: NotifyConfig;
  /** DELIVERIES_INDEX_KEY and SPEND_LIMITS_FILE / SPEND_LIMITS: the repeat guard and spend limits. */
  deliveries: { key?: Buffer; spendLimits: SpendLimits };
}

// Empty strings count as unset: `WORKER_MAX_CACHED_WORKFLOWS=` in a .env file means "the default".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );
const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number<string>({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

const envSchema = z.object({
  TEMPORAL_TASK_QUEUE: optional(
    z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9_.:/-]{1,200}$/, 'must be 1-200 characters of A-Z a-z 0-9 _ . : / -'),
  ),
  WORKER_MAX_CONCURRENT_ACTIVITIES: optional(wholeNumber(1, 10_000)),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: optional(wholeNumber(2, 10_000)),
  WORKER_MAX_CACHED_WORKFLOWS: optional(wholeNumber(0, 1_000_000)),
  WORKER_SHUTDOWN_GRACE_SECONDS: optional(wholeNumber(0, 86_400)),
  METRICS_PORT: optional(wholeNumber(0, 65_535)),
  METRICS_HOST: optional(z.string().trim().min(1)),
  LOG_LEVEL: optional(z.enum(['debug', 'info', 'warn', 'error'])),
});

export const DEFAULT_TUNING = {
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskExecutions: 40,
  shutdownGraceTimeMs: 30_000,
} as const;

/** The Temporal connection from the standard variables and profile (TEMPORAL_*, TOML file). */
export function loadTemporalConfig(env: Env, taskQueue: string = DEFAULT_TASK_QUEUE): TemporalConfig {
  // envconfig reads only the variables it is given: the entry point's env object, not process.env.
  const vars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (error) {
    const variable = vars.TEMPORAL_CONFIG_FILE
      ? 'TEMPORAL_CONFIG_FILE'
      : vars.TEMPORAL_PROFILE
        ? 'TEMPORAL_PROFILE'
        : 'TEMPORAL_CONFIG_FILE';
    throw new ConfigError(
      variable,
      `the Temporal client configuration could not be loaded (${(error as Error).message}); ` +
        'fix the TOML profile or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE directly',
    );
  }
  const address = loaded.connectionOptions.address?.trim() || DEFAULT_TEMPORAL_ADDRESS;
  if (!/^[^\s/]+:\d{1,5}$/.test(address))
    throw new ConfigError(
      'TEMPORAL_ADDRESS',
      `"${address}" is not host:port (for example ${DEFAULT_TEMPORAL_ADDRESS})`,
    );
  return {
    connection: { ...loaded.connectionOptions, address },
    namespace: loaded.namespace?.trim() || DEFAULT_TEMPORAL_NAMESPACE,
    taskQueue,
  };
}

/**
 * Reads everything a worker needs from `env` (pass process.env from the entry point) and `cwd`
 * (where relative paths such as TANGO_ERROR_CLASSES resolve). Throws ConfigError naming the first
 * variable that is wrong (other loaders' errors name theirs: StoreError says CAMPAIGN_STORE,
 * ErrorClassesFileError says TANGO_ERROR_CLASSES).
 */
export function loadProcessConfig(env: Env, cwd: string = process.cwd()): ProcessConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'WORKER_*');
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable] ?? null)})`);
  }
  const vars = parsed.data;
  const metricsHost = vars.METRICS_HOST ?? '127.0.0.1';
  return {
    tango: loadTangoConfig(env),
    store: loadStoreConfig(env),
    errorClassOverrides: loadErrorClassOverrides(env, cwd),
    codec: loadCodecConfig(env),
    temporal: loadTemporalConfig(env, vars.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE),
    tuning: {
      maxConcurrentActivityTaskExecutions:
        vars.WORKER_MAX_CONCURRENT_ACTIVITIES ?? DEFAULT_TUNING.maxConcurrentActivityTaskExecutions,
      maxConcurrentWorkflowTaskExecutions:
        vars.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS ?? DEFAULT_TUNING.maxConcurrentWorkflowTaskExecutions,
      maxCachedWorkflows: vars.WORKER_MAX_CACHED_WORKFLOWS,
      shutdownGraceTimeMs:
        vars.WORKER_SHUTDOWN_GRACE_SECONDS !== undefined
          ? vars.WORKER_SHUTDOWN_GRACE_SECONDS * 1000
          : DEFAULT_TUNING.shutdownGraceTimeMs,
    },
    metrics: {
      // METRICS_PORT unset or 0: no metrics endpoint (a worker should not open a port nobody asked for).
      bindAddress: vars.METRICS_PORT
        ? `${metricsHost.includes(':') ? `[${metricsHost}]` : metricsHost}:${vars.METRICS_PORT}`
        : undefined,
    },
    logLevel: vars.LOG_LEVEL ?? 'info',
    sources: loadSourceLimits(env),
    policy: loadCampaignPolicy(env, cwd),
    notify: loadNotifyConfig(env),
    deliveries: loadDeliveriesConfig(env, cwd),
  };
}

function loadDeliveriesConfig(env: Env, cwd: string): ProcessConfig['deliveries'] {
  const key = loadDeliveriesIndexKey(env, isLoopbackUrl(loadTangoConfig(env).baseUrl));
  const spendLimits = loadSpendLimits(env, cwd);
  if (!key && (Object.keys(spendLimits.accounts).length > 0 || spendLimits.default))
    throw new ConfigError(
      'DELIVERIES_INDEX_KEY',
      'spend limits are counted from the deliveries index: set its key',
    );
  return { ...(key ? { key } : {}), spendLimits };
}

/** Every secret value in a configuration: the logger masks them wherever they appear. */
export function secretsOf(
  config: Pick<ProcessConfig, 'tango' | 'codec' | 'temporal'> &
    Partial<Pick<ProcessConfig, 'notify' | 'deliveries'>>,
): string[] {
  const secrets: string[] = [];
  const { auth, webhook } = config.tango;
  if (auth.kind === 'basic') secrets.push(auth.platformKey);
  else secrets.push(auth.clientSecret, auth.password);
  if (webhook.hmacSecret) secrets.push(webhook.hmacSecret);
  for (const { key } of config.codec.keys) secrets.push(key.toString('base64'));
  if (config.codec.serverToken) secrets.push(config.codec.serverToken);
  if (config.notify?.signingSecret) secrets.push(config.notify.signingSecret);
  if (config.deliveries?.key) secrets.push(config.deliveries.key.toString('utf8'));
  const apiKey = config.temporal.connection.apiKey;
  if (typeof apiKey === 'string') secrets.push(apiKey);
  // Very short values would mask ordinary words; real secrets are long.
  return [...new Set(secrets.filter((secret) => secret.length >= 6))];
}

// The worker process: parses the configuration once, connects to Temporal the standard way
// (envconfig), opens the claim-check store and the Tango client, and runs the campaign worker with
// Prometheus metrics, campaign counters, secret-free JSON logs and a graceful shutdown.
import { hostname } from 'node:os';
import { type Logger, type LogLevel as TemporalLogLevel, type LogMetadata } from '@temporalio/common';
import {
  type ActivityInterceptorsFactory,
  NativeConnection,
  Runtime,
  type WorkerOptions,
} from '@temporalio/worker';
import { type Env, type LogLevel, loadProcessConfig, type ProcessConfig, secretsOf } from './config.ts';
import { codecDataConverter, createPayloadCodec } from './codec/index.ts';
import { openStore } from './store/open.ts';
import type { CampaignStore } from './store/store.ts';
import { storeTokenCacheFor } from './store/token-cache.ts';
import { StoreRequestGate } from './store/request-gate.ts';
import { TangoClient } from './tango/client.ts';
import { isLoopbackUrl } from './tango/config.ts';
import { type CampaignWorker, createCampaignWorker } from './worker-factory.ts';

const LEVELS: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const REDACTED = '[redacted]';
// Attribute names whose values are credentials whatever they contain.
const SECRET_KEY =
  /(secret|password|passwd|token|authorization|api[-_]?key|private[-_]?key|credential|^key$|keys$)/i;

/**
 * Replaces secrets in a log record: values under credential-like keys, and any configured secret
 * value (or its base64 form, as in a Basic Authorization header) wherever it appears in a string.
 */
export function redact(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') {
    let text = value;
    for (const secret of secrets) if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    return text;
  }
  if (value instanceof Error) {
    return redact({ name: value.name, message: value.message, stack: value.stack }, secrets, depth);
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      SECRET_KEY.test(key) && inner !== undefined && inner !== null
        ? REDACTED
        : redact(inner, secrets, depth + 1),
    ]),
  );
}

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Secret values to mask (see secretsOf); the base64 of `a:b` pairs is masked too. */
  secrets?: readonly string[];
  write?: (line: string) => void;
  /** Attributes on every record (service, worker identity). */
  base?: Record<string, unknown>;
}

/** A Temporal `Logger` writing one JSON object per line, with secrets redacted. */
export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = LEVELS[options.level.toUpperCase()] ?? LEVELS.INFO!;
  const secrets = [...(options.secrets ?? [])];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const log = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    if ((LEVELS[level] ?? 0) < threshold) return;
    const record = {
      time: new Date().toISOString(),
      level: level.toLowerCase(),
      msg: message,
      ...options.base,
      ...(meta ?? {}),
    };
    write(`${JSON.stringify(redact(record, secrets))}\n`);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/**
 * The secrets of a configuration plus their Basic-auth encodings, for createJsonLogger. `env` adds
 * the AWS credentials the S3 store reads the standard way (the store, not our config, parses them).
 */
export function loggerSecrets(config: ProcessConfig, env: Env = {}): string[] {
  const secrets = secretsOf(config);
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    const value = env[name]?.trim();
    if (value && value.length >= 6) secrets.push(value);
  }
  if (config.tango.auth.kind === 'basic') {
    const { platformName, platformKey } = config.tango.auth;
    secrets.push(Buffer.from(`${platformName}:${platformKey}`).toString('base64'));
  }
  return secrets;
}

/**
 * Campaign counters next to the SDK's own metrics, counted from activity results (the activities
 * stay free of metrics code): line items submitted and rejected at submission, failures by class,
 * campaigns reported with their delivered / given-up items, and activity failures by type.
 */
export const campaignMetricsInterceptor: ActivityInterceptorsFactory = (ctx) => {
  const meter = ctx.metricMeter;
  return {
    inbound: {
      async execute(input, next) {
        const activity = ctx.info.activityType;
        let result: unknown;
        try {
          result = await next(input);
        } catch (error) {
          const type = (error as { type?: unknown }).type;
          meter
            .createCounter(
              'campaign_activity_failures',
              'failures',
              'Activity attempts that failed, by failure type',
            )
            .add(1, { activity, failure_type: typeof type === 'string' ? type : (error as Error).name });
          throw error;
        }
        countResult(meter, activity, result);
        return result;
      },
    },
  };
};

type Meter = Parameters<ActivityInterceptorsFactory>[0]['metricMeter'];

function countResult(meter: Meter, activity: string, result: unknown): void {
  if (typeof result !== 'object' || result === null) return;
  const r = result as Record<string, unknown>;
  const add = (name: string, description: string, value: unknown, tags: Record<string, string> = {}) => {
    if (typeof value === 'number' && value > 0)
      meter.createCounter(name, 'items', description).add(value, tags);
  };
  if (activity === 'submitOrderRound') {
    add('campaign_line_items_submitted', 'Line items sent to Tango in an order', r.submitted);
    add('campaign_line_items_rejected', 'Line items Tango refused in the POST response', r.rejected);
    if (r.created === true) add('campaign_orders_created', 'Tango orders created', 1);
  } else if (
    (activity === 'settleOrderRound' || activity === 'settleOrderStep' || activity === 'recheckOrderItems') &&
    typeof r.failuresThisRound === 'object' &&
    r.failuresThisRound
  ) {
    for (const [failureClass, count] of Object.entries(r.failuresThisRound as Record<string, unknown>))
      add('campaign_line_item_failures', 'Failed line items found, by failure class', count, {
        failure_class: failureClass,
      });
  } else if (activity === 'writeCampaignReport' && typeof r.counts === 'object' && r.counts) {
    const counts = r.counts as Record<string, unknown>;
    add('campaigns_reported', 'Campaigns whose final report was written', 1);
    add('campaign_items_delivered', 'Items delivered, counted when their campaign reports', counts.delivered);
    add('campaign_items_given_up', 'Items given up, counted when their campaign reports', counts.givenUp);
  }
}

export interface RunningCampaignWorker {
  worker: CampaignWorker;
  connection: NativeConnection;
  store: CampaignStore;
  /** Runs until shutdown; then closes the connection (unless it was passed in). */
  run(): Promise<void>;
}

export interface StartWorkerOptions {
  logger?: Logger;
  /** An existing connection (tests); by default one is opened from config.temporal. */
  connection?: NativeConnection;
  /** Prebuilt workflow bundle (tests share one). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  identity?: string;
}

/**
 * Builds a campaign worker from a parsed configuration: opens (and checks) the store, the Tango
 * client and the connection. Does not install a Runtime: the caller decides about metrics and signals.
 */
export async function startCampaignWorker(
  config: ProcessConfig,
  options: StartWorkerOptions = {},
): Promise<RunningCampaignWorker> {
  const logger = options.logger;
  const store = await openStore(config.store.url);
  // A store that can check itself (S3: bucket exists, credentials work) is checked now, so a wrong
  // bucket stops the worker at start rather than failing the first campaign's activities.
  const checkable = store as CampaignStore & {
    check?: () => Promise<void>;
    client?: { destroy?: () => void };
  };
  if (typeof checkable.check === 'function') {
    try {
      await checkable.check();
    } catch (error) {
      // Its keep-alive sockets would hold the process open after the failed start.
      checkable.client?.destroy?.();
      throw error;
    }
  }
  const identity = options.identity ?? `${process.pid}@${hostname()}`;
  // Every worker shares one OAuth token through the store (encrypted with CODEC_KEYS when set).
  const tokenCache = storeTokenCacheFor(store, config.tango.auth, {
    keys: config.codec.keys,
    holder: identity,
  });
  const tango = new TangoClient(config.tango, {
    ...(logger ? { logger } : {}),
    ...(tokenCache ? { tokenCache } : {}),
    // Spaced per process, and held back everywhere after a 429 or an error (docs/operations.md).
    requestGate: new StoreRequestGate(store, { tps: config.tango.tps }),
  });
  const connection = options.connection ?? (await NativeConnection.connect(config.temporal.connection));
  const codec = createPayloadCodec(config.codec);
  try {
    // worker-factory's `tuning` is spread into the WorkerOptions; the settings that are not tuning
    // proper (codec, interceptors, grace time, identity) ride along until the factory takes them itself.
    const workerOptions: Pick<
      WorkerOptions,
      | 'maxConcurrentActivityTaskExecutions'
      | 'maxConcurrentWorkflowTaskExecutions'
      | 'maxCachedWorkflows'
      | 'shutdownGraceTime'
      | 'dataConverter'
      | 'interceptors'
      | 'identity'
    > = {
      maxConcurrentActivityTaskExecutions: config.tuning.maxConcurrentActivityTaskExecutions,
      maxConcurrentWorkflowTaskExecutions: config.tuning.maxConcurrentWorkflowTaskExecutions,
      ...(config.tuning.maxCachedWorkflows !== undefined
        ? { maxCachedWorkflows: config.tuning.maxCachedWorkflows }
        : {}),
      shutdownGraceTime: config.tuning.shutdownGraceTimeMs,
      // Payloads and failure messages encrypted (src/codec/failure-converter.ts is bundled too).
      ...(codec ? { dataConverter: codecDataConverter(config.codec) } : {}),
      interceptors: { activity: [campaignMetricsInterceptor] },
      identity,
    };
    const worker = await createCampaignWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      store,
      tango,
      errorClassOverrides: config.errorClassOverrides,
      tangoConcurrency: config.tango.maxConcurrentRequests,
      visibilityGraceMs: config.tango.visibilityGraceMs,
      webhookSubscriptions: { tango, verification: config.tango.webhook },
      sourceLimits: config.sources,
      policy: config.policy,
      notify: config.notify,
      deliveries: config.deliveries,
      workerOptions,
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    });
    return {
      worker,
      connection,
      store,
      async run() {
        try {
          await worker.run();
        } finally {
          if (!options.connection) await connection.close();
        }
      },
    };
  } catch (error) {
    if (!options.connection) await connection.close();
    throw error;
  }
}

/**
 * What a worker that talks to a real Tango should not run without: said once at start, in the log.
 */
export function startupWarnings(
  config: Pick<ProcessConfig, 'codec' | 'tango'> & Partial<Pick<ProcessConfig, 'deliveries'>>,
): string[] {
  const warnings: string[] = [];
  if (config.codec.keys.length === 0 && !isLoopbackUrl(config.tango.baseUrl))
    warnings.push(
      `payload encryption is off (CODEC_KEYS is not set) while Tango is ${config.tango.baseUrl}: recipients' names, emails, addresses, corrections and failure messages are stored in clear in Temporal history. Set CODEC_KEYS on every worker and client (docs/operations.md).`,
    );
  if (!config.deliveries?.key)
    warnings.push(
      'the deliveries index is off (DELIVERIES_INDEX_KEY is not set): campaigns are not checked for recipients rewarded by earlier campaigns (docs/configuration.md).',
    );
  return warnings;
}

export interface RunWorkerIo {
  /** Where log lines go (default stdout). */
  write?: (line: string) => void;
}

/**
 * `tango-campaigns worker`: runs one worker until SIGINT/SIGTERM, then lets in-flight activities
 * finish (up to WORKER_SHUTDOWN_GRACE_SECONDS) and exits 0. Returns the exit code: 1 for a
 * configuration or startup problem (logged with what to fix).
 */
export async function runWorker(env: Env = process.env, io: RunWorkerIo = {}): Promise<number> {
  const write = io.write ?? ((line: string) => process.stdout.write(line));
  let config: ProcessConfig;
  try {
    config = loadProcessConfig(env);
  } catch (error) {
    const logger = createJsonLogger({ level: 'error', write });
    logger.error(`configuration error: ${(error as Error).message}`, { error: (error as Error).name });
    return 1;
  }
  const identity = `${process.pid}@${hostname()}`;
  const logger = createJsonLogger({
    level: config.logLevel,
    secrets: loggerSecrets(config, env),
    write,
    base: { service: 'tango-campaigns-worker', identity },
  });
  Runtime.install({
    logger,
    // The Runtime shuts every worker down on these; worker.run() then resolves once activities drain.
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(config.metrics.bindAddress
        ? {
            metrics: {
              prometheus: { bindAddress: config.metrics.bindAddress, countersTotalSuffix: true },
              globalTags: { task_queue: config.temporal.taskQueue },
            },
          }
        : {}),
    },
  });
  let running: RunningCampaignWorker;
  try {
    running = await startCampaignWorker(config, { logger, identity });
  } catch (error) {
    logger.error(`worker could not start: ${(error as Error).message}`, {
      error: (error as Error).name,
      temporalAddress: config.temporal.connection.address,
      namespace: config.temporal.namespace,
      store: config.store.url,
    });
    return 1;
  }
  logger.info('worker started', {
    temporalAddress: config.temporal.connection.address,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    store: running.store.location,
    tangoBaseUrl: config.tango.baseUrl,
    tangoTps: config.tango.tps,
    tangoMaxConcurrentRequests: config.tango.maxConcurrentRequests,
    payloadEncryption: config.codec.keys.length > 0,
    metrics: config.metrics.bindAddress ? `http://${config.metrics.bindAddress}/metrics` : 'off',
    tuning: config.tuning,
  });
  for (const warning of startupWarnings(config)) logger.warn(warning);
  try {
    await running.run();
  } catch (error) {
    logger.error(`worker stopped with an error: ${(error as Error).message}`, { error });
    return 1;
  }
  logger.info('worker stopped');
  return 0;
}

const workerUsage = `Usage: tango-campaigns worker

Runs a campaign worker until SIGINT/SIGTERM (in-flight activities get WORKER_SHUTDOWN_GRACE_SECONDS
to finish). Configured only through the environment; see docs/configuration.md:
  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE
  TEMPORAL_TASK_QUEUE, CAMPAIGN_STORE, TANGO_*, CODEC_KEYS, METRICS_PORT, LOG_LEVEL
  WORKER_MAX_CONCURRENT_ACTIVITIES, WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, WORKER_MAX_CACHED_WORKFLOWS
`;

/** The `worker` command: no flags but --help; everything else comes from the environment. */
export async function runWorkerCli(args: string[], env: Env): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(workerUsage);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`tango-campaigns worker: unexpected argument '${args[0]}'\n\n${workerUsage}`);
    return 2;
  }
  const code = await runWorker(env);
  // A failed start can leave a library's keep-alive sockets open (the S3 client's do); the process
  // must still end at once with its code, so that a supervisor sees the failure and restarts it.
  if (code !== 0) process.exit(code);
  return code;
}

// The whole product on one machine for `npm start`: Temporal dev server, Tango simulator, codec
// server, webhook receiver (registered with the simulator) and a campaign worker, started in order
// and stopped in reverse, with a clear message when a port is taken.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { type Env, loadProcessConfig, type ProcessConfig } from '../config.ts';
import {
  codecDataConverter,
  createPayloadCodec,
  startCodecServer,
  type RunningCodecServer,
} from '../codec/index.ts';
import { startSimulator, type RunningSimulator } from '../simulator/index.ts';
import { LOCAL_SIMULATOR_DEFAULTS } from '../tango/config.ts';
import { TangoClient } from '../tango/client.ts';
import { registerWebhook, startWebhookReceiver, type RunningWebhookReceiver } from '../webhook/index.ts';
import { startWebhookRenewal } from '../webhook/renewal.ts';
import {
  createJsonLogger,
  loggerSecrets,
  startCampaignWorker,
  type RunningCampaignWorker,
} from '../worker.ts';
import { resolveTemporalCli, startDevTemporalServer, type RunningTemporalServer } from './temporal-server.ts';

export interface DevPorts {
  temporal: number;
  ui: number;
  simulator: number;
  webhook: number;
  codec: number;
}

export const DEFAULT_DEV_PORTS: DevPorts = {
  temporal: 7233,
  ui: 8233,
  simulator: LOCAL_SIMULATOR_DEFAULTS.port,
  webhook: 8787,
  codec: 8888,
};

/** Which flag / variable moves each port, for the "port taken" message. */
export const PORT_SETTINGS: Record<keyof DevPorts, { what: string; flag: string; variable: string }> = {
  temporal: { what: 'Temporal gRPC', flag: '--temporal-port', variable: 'DEV_TEMPORAL_PORT' },
  ui: { what: 'Temporal Web UI', flag: '--ui-port', variable: 'DEV_UI_PORT' },
  simulator: { what: 'Tango simulator', flag: '--simulator-port', variable: 'DEV_SIMULATOR_PORT' },
  webhook: { what: 'webhook receiver', flag: '--webhook-port', variable: 'WEBHOOK_PORT' },
  codec: { what: 'codec server', flag: '--codec-port', variable: 'CODEC_SERVER_PORT' },
};

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly role: keyof DevPorts,
  ) {
    const setting = PORT_SETTINGS[role];
    super(
      `port ${port} (${setting.what}) is already in use on 127.0.0.1: stop what is using it ` +
        `(an earlier \`npm start\`?) or pick another port with ${setting.flag} <port> or ${setting.variable}=<port>`,
    );
    this.name = 'PortInUseError';
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Fails before anything starts if a port is taken, naming the port, its role and how to move it. */
export async function assertPortsFree(ports: DevPorts): Promise<void> {
  for (const role of Object.keys(ports) as (keyof DevPorts)[]) {
    if (!(await portFree(ports[role]))) throw new PortInUseError(ports[role], role);
  }
}

/**
 * CODEC_KEYS when configured; otherwise a dev key generated once and kept in <dataDir>/dev-codec-key
 * (owner-only), so payloads stay readable across restarts of the local stack.
 */
export function devCodecKeys(env: Env, dataDir: string): { keys: string; generated: string | undefined } {
  if (env.CODEC_KEYS?.trim()) return { keys: env.CODEC_KEYS.trim(), generated: undefined };
  const file = path.join(dataDir, 'dev-codec-key');
  if (!existsSync(file)) {
    writeFileSync(file, `dev-${Date.now().toString(36)}:${randomBytes(32).toString('base64')}\n`, {
      mode: 0o600,
    });
    chmodSync(file, 0o600);
  }
  return { keys: readFileSync(file, 'utf8').trim(), generated: file };
}

export interface DevStackOptions {
  projectRoot: string;
  dataDir: string;
  ports: DevPorts;
  /** The caller's environment: TANGO_TPS, TANGO_ERROR_CLASSES, CAMPAIGN_STORE, CODEC_KEYS, tuning. */
  env: Env;
  /** Shown while each part starts. */
  onStep?: (message: string) => void;
}

export interface DevStack {
  config: ProcessConfig;
  temporal: RunningTemporalServer;
  simulator: RunningSimulator;
  codecServer: RunningCodecServer;
  webhook: RunningWebhookReceiver;
  worker: RunningCampaignWorker;
  /** A client with the payload codec, for starting and watching campaigns. */
  client: Client;
  /** Log files of the parts whose output would disturb the console. */
  logs: { temporal: string; stack: string };
  codecKeyFile: string | undefined;
  stop(): Promise<void>;
}

// The local stack talks only to its own parts: settings that point elsewhere are dropped.
const FOREIGN = /^(TANGO_(?!TPS$|ERROR_CLASSES$|TIMEOUT_MS$)|TEMPORAL_)/;

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { dataDir, ports } = options;
  const step = options.onStep ?? (() => undefined);
  mkdirSync(dataDir, { recursive: true });
  await assertPortsFree(ports);

  const logs = {
    temporal: path.join(dataDir, 'dev-temporal.log'),
    stack: path.join(dataDir, 'dev-stack.log'),
  };
  const codecKeys = devCodecKeys(options.env, dataDir);
  const env: Env = {
    ...Object.fromEntries(Object.entries(options.env).filter(([name]) => !FOREIGN.test(name))),
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    TEMPORAL_NAMESPACE: 'default',
    TANGO_BASE_URL: `http://127.0.0.1:${ports.simulator}/raas/v2`,
    // The simulator sets no rate limit; 10/s keeps a few thousand items quick and the limiter in play.
    TANGO_TPS: options.env.TANGO_TPS ?? '10',
    CAMPAIGN_STORE: options.env.CAMPAIGN_STORE ?? `file://${path.join(dataDir, 'store')}`,
    CODEC_KEYS: codecKeys.keys,
    WORKER_SHUTDOWN_GRACE_SECONDS: options.env.WORKER_SHUTDOWN_GRACE_SECONDS ?? '5',
  };
  const config = loadProcessConfig(env, options.projectRoot);
  const codec = createPayloadCodec(config.codec)!;
  const stackLog = (line: string) => writeFileSync(logs.stack, line, { flag: 'a' });
  const logger = createJsonLogger({
    level: config.logLevel,
    secrets: loggerSecrets(config, env),
    write: stackLog,
    base: { service: 'tango-campaigns-dev' },
  });
  Runtime.install({
    logger,
    // The stack stops its parts itself, in order, on Ctrl-C.
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(config.metrics.bindAddress
        ? { metrics: { prometheus: { bindAddress: config.metrics.bindAddress, countersTotalSuffix: true } } }
        : {}),
    },
  });

  // Started in dependency order; stopped in reverse, including after a failed start.
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  const stop = async () => {
    for (const { name, stop: stopPart } of stops.splice(0).reverse()) {
      try {
        await stopPart();
      } catch (error) {
        logger.warn(`stopping ${name} failed: ${(error as Error).message}`);
      }
    }
  };
  try {
    step(`codec server on 127.0.0.1:${ports.codec}`);
    const codecServer = await startCodecServer({
      codec,
      corsOrigins: [`http://127.0.0.1:${ports.ui}`, `http://localhost:${ports.ui}`],
      port: ports.codec,
      logger,
    });
    stops.push({ name: 'codec server', stop: () => codecServer.close() });

    step(`Temporal dev server on ${env.TEMPORAL_ADDRESS} (database ${path.join(dataDir, 'temporal.db')})`);
    const temporal = await startDevTemporalServer({
      cli: resolveTemporalCli(options.projectRoot, options.env),
      dbFilename: path.join(dataDir, 'temporal.db'),
      port: ports.temporal,
      uiPort: ports.ui,
      codecEndpoint: codecServer.url,
      logFile: logs.temporal,
    });
    stops.push({ name: 'Temporal dev server', stop: () => temporal.stop() });

    step(`Tango simulator on 127.0.0.1:${ports.simulator}`);
    const simulator = await startSimulator({ port: ports.simulator, processingDelayMs: 200 });
    stops.push({ name: 'Tango simulator', stop: () => simulator.close() });

    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    stops.push({ name: 'client connection', stop: () => connection.close() });
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: codecDataConverter(config.codec),
    });

    step(`webhook receiver on 127.0.0.1:${ports.webhook}, registered with the simulator`);
    const webhook = await startWebhookReceiver({
      host: '127.0.0.1',
      port: ports.webhook,
      client,
      verification: config.tango.webhook,
      logger,
    });
    stops.push({ name: 'webhook receiver', stop: () => webhook.close() });
    const subscription = await registerWebhook(
      new TangoClient(config.tango),
      webhook.url,
      config.tango.webhook,
    );

    step(`worker on task queue ${config.temporal.taskQueue}`);
    const worker = await startCampaignWorker(config, { logger });
    const running = worker.run();
    // Kept renewed like a deployment's subscription (the simulator's never expires by default).
    if (subscription.id !== undefined) {
      await startWebhookRenewal(client, config.temporal.taskQueue, {
        webhookId: subscription.id,
        url: subscription.url,
        ...(subscription.response.expiresAt ? { expiresAt: subscription.response.expiresAt } : {}),
      });
    }
    stops.push({
      name: 'worker',
      stop: async () => {
        if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
        await running;
      },
    });

    return {
      config,
      temporal,
      simulator,
      codecServer,
      webhook,
      worker,
      client,
      logs,
      codecKeyFile: codecKeys.generated,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

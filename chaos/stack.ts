// The whole product, run the way it runs in production, for fault injection: a Temporal dev server on
// a database file (so it can be killed and restarted), the Tango simulator behind a recording proxy,
// the webhook receiver, and the worker as a child process (`tango-campaigns worker`) that can be
// SIGKILLed and started again. Everything listens on free loopback ports and is torn down by close().
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CampaignClient } from '../src/client/index.ts';
import {
  resolveTemporalCli,
  startDevTemporalServer,
  type RunningTemporalServer,
} from '../src/dev/temporal-server.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptionsPatch } from '../src/simulator/index.ts';
import { FileSystemStore } from '../src/store/filesystem.ts';
import { loadTangoConfig } from '../src/tango/config.ts';
import { startWebhookReceiver, type RunningWebhookReceiver } from '../src/webhook/index.ts';
import { startRequestLogProxy, type RequestLogProxy } from './request-log.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

export interface ChaosStackOptions {
  simulator?: SimulatorOptionsPatch;
  /** Register the webhook receiver with the simulator (default true). */
  webhooks?: boolean;
  /** Tango requests per second for the task queue (TANGO_TPS), high: the simulator is local. */
  tangoTps?: number;
  /** Extra environment for the worker process. */
  workerEnv?: Record<string, string>;
  /** Where server and worker logs go (default: a temp directory removed on close). */
  logDir?: string;
}

export interface ChaosStack {
  simulator: RunningSimulator;
  proxy: RequestLogProxy;
  receiver: RunningWebhookReceiver | undefined;
  store: FileSystemStore;
  campaigns: CampaignClient;
  temporalAddress: string;
  workDir: string;
  /** Starts a worker process and waits until it reports "worker started". */
  startWorker(): Promise<void>;
  /** SIGKILLs the running worker process (no shutdown, no goodbye). */
  killWorker(): Promise<void>;
  workerRunning(): boolean;
  /** Worker processes started so far. */
  workerStarts(): number;
  /** SIGKILLs the Temporal dev server and starts it again on the same database file and port. */
  restartTemporal(options?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startChaosStack(options: ChaosStackOptions = {}): Promise<ChaosStack> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'tango-chaos-'));
  const logDir = options.logDir ?? workDir;
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const cli = resolveTemporalCli(projectRoot, process.env);
    const dbFilename = path.join(workDir, 'temporal.db');
    const temporalPort = await freePort();
    const uiPort = await freePort();
    const startTemporal = () =>
      startDevTemporalServer({
        cli,
        dbFilename,
        port: temporalPort,
        uiPort,
        logFile: path.join(logDir, 'temporal.log'),
      });
    let temporal: RunningTemporalServer = await startTemporal();
    cleanups.push(() => temporal.stop());

    const connection = await Connection.connect({ address: temporal.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const storeDir = path.join(workDir, 'store');
    const store = new FileSystemStore(storeDir);
    const taskQueue = 'chaos';
    const campaigns = new CampaignClient({ client, taskQueue, store, address: temporal.address });

    // The receiver checks signatures with the simulator's default secret (loopback defaults).
    let receiver: RunningWebhookReceiver | undefined;
    if (options.webhooks !== false) {
      receiver = await startWebhookReceiver({
        port: 0,
        client,
        verification: loadTangoConfig({ TANGO_BASE_URL: 'http://127.0.0.1/raas/v2' }).webhook,
        logger: { info() {}, warn() {}, error() {} },
      });
      const running = receiver;
      cleanups.push(() => running.close());
    }
    const simulatorOptions = options.simulator ?? {};
    const simulator = await startSimulator({
      processingDelayMs: 20,
      ...simulatorOptions,
      ...(receiver
        ? { webhooks: { ...(simulatorOptions.webhooks ?? {}), subscriptions: [{ url: receiver.url }] } }
        : {}),
    });
    cleanups.push(() => simulator.close());
    const proxy = await startRequestLogProxy(simulator.baseUrl);
    cleanups.push(() => proxy.close());

    const workerEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      CAMPAIGN_STORE: `file://${storeDir}`,
      TANGO_BASE_URL: proxy.baseUrl,
      TANGO_TIMEOUT_MS: '10000',
      TANGO_TPS: String(options.tangoTps ?? 200),
      LOG_LEVEL: 'info',
      WORKER_SHUTDOWN_GRACE_SECONDS: '1',
      ...(options.workerEnv ?? {}),
    };
    let worker: ChildProcess | undefined;
    let starts = 0;
    const workerLog = path.join(logDir, 'worker.log');

    const startWorker = async () => {
      if (worker && worker.exitCode === null && worker.signalCode === null)
        throw new Error('a worker process is already running');
      starts += 1;
      appendFileSync(workerLog, `--- worker start ${starts} at ${new Date().toISOString()}\n`);
      const log = openSync(workerLog, 'a');
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
        cwd: projectRoot,
        env: workerEnv,
        stdio: ['ignore', 'pipe', log],
      });
      closeSync(log);
      worker = child;
      await new Promise<void>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(
          () => reject(new Error(`the worker did not start within 120 s; see ${workerLog}`)),
          120_000,
        );
        child.stdout!.on('data', (chunk: Buffer) => {
          appendFileSync(workerLog, chunk);
          if (seen.length < 100_000) {
            seen += chunk.toString('utf8');
            if (seen.includes('"worker started"')) {
              clearTimeout(timer);
              resolve();
            }
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`the worker exited during start (${code ?? signal}); see ${workerLog}`));
        });
      });
    };
    const killWorker = async () => {
      const child = worker;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited(child);
    };
    cleanups.push(killWorker);

    const restartTemporal = async ({ downMs = 1000 } = {}) => {
      process.kill(temporal.pid, 'SIGKILL');
      await temporal.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      temporal = await startTemporal();
    };

    return {
      simulator,
      proxy,
      receiver,
      store,
      campaigns,
      temporalAddress: temporal.address,
      workDir,
      startWorker,
      killWorker,
      workerRunning: () => worker !== undefined && worker.exitCode === null && worker.signalCode === null,
      workerStarts: () => starts,
      restartTemporal,
      close: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

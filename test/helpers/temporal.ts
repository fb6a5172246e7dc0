// One place where tests get real Temporal servers: the binaries resolved by scripts/install-temporal.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { type SearchAttributeType, type defineSearchAttributeKey } from '@temporalio/common';
import { DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { tangoTaskQueue } from '../../src/definitions.ts';

// Worker state chatter drowns the runner's output; tests want warnings and errors only.
Runtime.install({ logger: new DefaultLogger('WARN') });

interface ServerPaths {
  cli: string;
  testServer: string;
}

let cachedPaths: ServerPaths | undefined;

/** Paths of the Temporal CLI and test server, installing them on first use if needed. */
export function temporalServerPaths(): ServerPaths {
  if (cachedPaths) return cachedPaths;
  const cacheRoot =
    process.env.TANGO_CAMPAIGNS_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tango-campaigns');
  const manifest = path.join(cacheRoot, 'servers.json');
  const script = path.join(import.meta.dirname, '..', '..', 'scripts', 'install-temporal.mjs');
  // The installer is idempotent and fast when cached; running it keeps env-var overrides authoritative.
  const result = spawnSync(process.execPath, [script, '--quiet'], { encoding: 'utf8', stdio: 'pipe' });
  if (result.status !== 0 || !existsSync(manifest)) {
    throw new Error(`Temporal servers are not available:\n${result.stderr || result.stdout}`);
  }
  cachedPaths = JSON.parse(readFileSync(manifest, 'utf8')) as ServerPaths;
  return cachedPaths;
}

async function withOneRetry<T>(start: () => Promise<T>): Promise<T> {
  // The SDK gives a server it spawns only a few seconds to come up; a cold, busy machine can need more.
  try {
    return await start();
  } catch (error) {
    if (!/timed out|connect|ECONNREFUSED|deadline/i.test(String(error))) throw error;
    return await start();
  }
}

export interface LocalEnvOptions {
  searchAttributes?: ReturnType<typeof defineSearchAttributeKey<SearchAttributeType>>[];
  dbFilename?: string;
  extraArgs?: string[];
  /** Serve the Temporal Web UI on this loopback port (the SDK's own default, port + 1000, may be taken). */
  uiPort?: number;
}

/** A Temporal CLI dev server on a free loopback port. */
export function createLocalEnv(options: LocalEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const { cli } = temporalServerPaths();
  return withOneRetry(() =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        ip: '127.0.0.1',
        log: { format: 'pretty', level: 'error' },
        searchAttributes: options.searchAttributes ?? [],
        ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
        extraArgs: options.extraArgs ?? [],
        ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : {}),
      },
    }),
  );
}

/** A loopback TCP port that was free a moment ago (for servers that cannot be told to pick one). */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The time-skipping test server on a free port. */
export function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const { testServer } = temporalServerPaths();
  return withOneRetry(() =>
    TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: testServer } },
    }),
  );
}

/**
 * Runs `body` with a worker for `options` (workflows and fake activities) and a second worker that
 * serves the same activities on the Tango task queue, where the workflows send their Tango calls.
 */
export async function runWithTangoQueue<T>(options: WorkerOptions, body: () => Promise<T>): Promise<T> {
  const main = await Worker.create(options);
  const tango = await Worker.create({
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    taskQueue: tangoTaskQueue(options.taskQueue),
    activities: options.activities ?? {},
  });
  const serving = tango.run();
  try {
    return await main.runUntil(body);
  } finally {
    tango.shutdown();
    await serving;
  }
}

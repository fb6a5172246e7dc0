// Runs `temporal server start-dev` for the local stack: persistent SQLite file, Web UI, our search
// attributes, the codec endpoint for the UI; waits until it accepts connections; stops it for good.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { allSearchAttributes } from '../definitions.ts';

const CLI_TYPE_NAMES: Record<string, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `--search-attribute Name=Type` for every key the product defines. */
export function searchAttributeArgs(): string[] {
  return allSearchAttributes.flatMap((key) => {
    const type = CLI_TYPE_NAMES[key.type];
    if (!type)
      throw new Error(`search attribute ${key.name} has type ${key.type}, unknown to the Temporal CLI`);
    return ['--search-attribute', `${key.name}=${type}`];
  });
}

/**
 * The Temporal CLI, installed (or found) by scripts/install-temporal.mjs, which records its choice in
 * <cache>/servers.json. `cacheDir` is where that cache lives (TANGO_CAMPAIGNS_CACHE or the XDG default).
 */
export function resolveTemporalCli(projectRoot: string, env: Record<string, string | undefined>): string {
  const cacheDir =
    env.TANGO_CAMPAIGNS_CACHE ??
    path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? homedir(), '.cache'), 'tango-campaigns');
  const manifest = path.join(cacheDir, 'servers.json');
  const script = path.join(projectRoot, 'scripts', 'install-temporal.mjs');
  // Idempotent and quick once cached; it also honours TEMPORAL_CLI_PATH.
  const result = spawnSync(process.execPath, [script, '--quiet'], {
    encoding: 'utf8',
    stdio: 'pipe',
    env: env as NodeJS.ProcessEnv,
  });
  if (result.status !== 0 || !existsSync(manifest)) {
    throw new Error(
      `the Temporal CLI is not available (node scripts/install-temporal.mjs failed):\n${result.stderr || result.stdout}`,
    );
  }
  const { cli } = JSON.parse(readFileSync(manifest, 'utf8')) as { cli?: string };
  if (!cli) throw new Error(`${manifest} names no Temporal CLI; run node scripts/install-temporal.mjs`);
  return cli;
}

export interface DevTemporalServerOptions {
  cli: string;
  dbFilename: string;
  port: number;
  uiPort: number;
  codecEndpoint?: string;
  /** Server output goes here (the console belongs to the progress bar). */
  logFile: string;
  startTimeoutMs?: number;
}

export interface RunningTemporalServer {
  address: string;
  uiUrl: string;
  pid: number;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startDevTemporalServer(
  options: DevTemporalServerOptions,
): Promise<RunningTemporalServer> {
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFilename,
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    'default',
    '--log-level',
    'warn',
    '--ui-disable-news-fetch',
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ...searchAttributeArgs(),
  ];
  const log = openSync(options.logFile, 'a');
  // Its own process group: Ctrl-C reaches only us, and we stop the server last, after the worker.
  const child = spawn(options.cli, args, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.cli}`);
  // Should this process die without stopping the stack, the server must not outlive it.
  const killOnExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    process.off('exit', killOnExit);
  };

  const address = `127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const tail = readFileSync(options.logFile, 'utf8').split('\n').slice(-15).join('\n');
      await stop();
      throw new Error(`the Temporal dev server exited during start (see ${options.logFile}):\n${tail}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `the Temporal dev server did not accept connections on ${address} within ${options.startTimeoutMs ?? 60_000} ms ` +
            `(${(error as Error).message}); see ${options.logFile}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
  return { address, uiUrl: `http://127.0.0.1:${options.uiPort}`, pid, stop };
}

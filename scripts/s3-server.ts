// Runs a local S3-compatible server (moto's server mode, installed by scripts/install-s3.mjs) on
// loopback: imported by the test helper, or run directly for the local multi-worker demo:
//
//   node --import tsx scripts/s3-server.ts [--port 9000] [--bucket tango-campaigns]
//
// prints the environment a worker needs (AWS_ENDPOINT_URL_S3, keys, CAMPAIGN_STORE) and serves until
// Ctrl-C. Objects live in the server's memory only: this is for tests and demos, not for keeping data.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface RunningS3Server {
  /** http://127.0.0.1:<port>: use as AWS_ENDPOINT_URL_S3, with path-style addressing. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The AWS environment variables a store or worker needs to use this server. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Buckets to create before returning. */
  buckets?: string[];
  /**
   * Check signatures against moto's own IAM (which knows no keys), so that every request is refused
   * as S3 refuses unknown credentials. Buckets are then created before enforcement begins.
   */
  enforceCredentials?: boolean;
}

// moto accepts any credentials; fixed ones keep the printed environment stable between runs.
const ACCESS_KEY_ID = 'tango-campaigns-local';
const SECRET_ACCESS_KEY = 'tango-campaigns-local-secret';
const REGION = 'us-east-1';

// The server runs in moto's own threaded server, which can bind port 0 and report the real port, so
// there is no race for a port picked in advance. It exits when its stdin closes: if the Node process
// that started it dies without calling stop(), the pipe closes and the server goes with it.
const LAUNCHER = `
import json, logging, signal, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address=sys.argv[1], port=int(sys.argv[2]), verbose=False)
server.start()
host, port = server.get_host_and_port()
print(json.dumps({"host": host, "port": port}), flush=True)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
sys.stdin.read()
`;

function cacheRoot(): string {
  return (
    process.env.TANGO_CAMPAIGNS_CACHE ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'tango-campaigns')
  );
}

let cachedPython: string | undefined;

/** The Python that runs moto, installing it on first use (fast and idempotent once cached). */
export function motoPython(): string {
  if (cachedPython) return cachedPython;
  const script = path.join(import.meta.dirname, 'install-s3.mjs');
  const result = spawnSync(process.execPath, [script, '--quiet'], { encoding: 'utf8', stdio: 'pipe' });
  const manifest = path.join(cacheRoot(), 's3-server.json');
  if (result.status !== 0 || !existsSync(manifest))
    throw new Error(`The local S3 server is not available:\n${result.stderr || result.stdout}`);
  cachedPython = (JSON.parse(readFileSync(manifest, 'utf8')) as { python: string }).python;
  return cachedPython;
}

function waitForAddress(
  child: ChildProcess,
  output: { text: string },
): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error('moto did not report its address within 60 s')), 60_000);
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      try {
        const address = JSON.parse(stdout.slice(0, newline)) as { host: string; port: number };
        cleanup();
        resolve(address);
      } catch {
        fail(new Error(`moto printed something unexpected: ${stdout.slice(0, 200)}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(new Error(`moto exited before it was ready (code ${code}, signal ${signal})`));
    const onError = (error: Error) => fail(error);
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    function fail(error: Error) {
      cleanup();
      reject(new Error(`${error.message}\n${output.text.slice(-2000)}`));
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function waitUntilAnswering(endpoint: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      // Any HTTP answer proves the server is serving; moto answers / with a bucket listing.
      const response = await fetch(endpoint, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`moto at ${endpoint} did not answer within 30 s: ${String(lastError)}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => signalGroup(child, 'SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    signalGroup(child, 'SIGTERM');
  });
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The server runs in its own process group (detached), so anything it started goes too.
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Starts moto on loopback, waits until it answers, and creates the requested buckets. */
export async function startS3Server(options: StartS3ServerOptions = {}): Promise<RunningS3Server> {
  const python = motoPython();
  const host = options.host ?? '127.0.0.1';
  const child = spawn(python, ['-c', LAUNCHER, host, String(options.port ?? 0)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: {
      ...process.env,
      PYTHONUNBUFFERED: '1',
      // moto lets this many requests through unchecked before enforcing: the readiness probe (one
      // ListBuckets, sent only once the socket is bound) and one CreateBucket per bucket.
      ...(options.enforceCredentials
        ? { INITIAL_NO_AUTH_ACTION_COUNT: String(1 + (options.buckets?.length ?? 0)) }
        : {}),
    },
  });
  // Keep the last of stderr for error messages; reading it also stops a full pipe from blocking moto.
  const output = { text: '' };
  child.stderr?.on('data', (chunk: Buffer) => {
    output.text = (output.text + chunk.toString('utf8')).slice(-8000);
  });
  try {
    const address = await waitForAddress(child, output);
    const endpoint = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    await waitUntilAnswering(endpoint);
    const server: RunningS3Server = {
      endpoint,
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      region: REGION,
      env: {
        AWS_ENDPOINT_URL_S3: endpoint,
        AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        AWS_REGION: REGION,
        AWS_S3_FORCE_PATH_STYLE: 'true',
      },
      stop: () => stopChild(child),
    };
    if (options.buckets?.length) {
      const client = new S3Client({
        endpoint,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
      });
      try {
        for (const bucket of options.buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } finally {
        client.destroy();
      }
    }
    // A test that forgets stop() must not keep Node alive; the stdin pipe still ends moto when Node exits.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr])
      (stream as unknown as { unref?: () => void })?.unref?.();
    return server;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

async function main(argv: string[]): Promise<void> {
  const valueOf = (flag: string) => {
    const index = argv.indexOf(flag);
    return index === -1 ? undefined : argv[index + 1];
  };
  const port = Number(valueOf('--port') ?? 0);
  const bucket = valueOf('--bucket') ?? 'tango-campaigns';
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${port}`);
  const server = await startS3Server({ port, buckets: [bucket] });
  console.log(`Local S3 (moto) serving on ${server.endpoint}, bucket "${bucket}". For every worker:\n`);
  for (const [name, value] of Object.entries({ ...server.env, CAMPAIGN_STORE: `s3://${bucket}/campaigns` }))
    console.log(`export ${name}=${value}`);
  console.log('\nCtrl-C stops it (objects are kept in memory only).');
  const shutdown = () => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  // The child is unref'd for tests; here the process must stay up until a signal.
  setInterval(() => undefined, 1 << 30);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

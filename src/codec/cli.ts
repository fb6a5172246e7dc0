// `tango-campaigns codec-server`: serves the remote codec protocol so the Temporal Web UI and
// `temporal --codec-endpoint` show decrypted payloads, until SIGINT/SIGTERM. Keys, token and CORS
// origins come from the same CODEC_* variables the worker and the client read.
import { parseArgs } from 'node:util';
import { ConfigError, isLoopbackHost } from '../tango/config.ts';
import { waitForShutdownSignal } from '../shutdown-signal.ts';
import { AesGcmPayloadCodec, loadCodecConfig } from './aes-gcm-codec.ts';
import { startCodecServer, type RunningCodecServer } from './server.ts';

export interface CodecCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The environment to read configuration from (the entry point passes process.env). */
  env: Record<string, string | undefined>;
  /** Resolves when the server should stop (SIGINT / SIGTERM by default). */
  stopSignal?: Promise<string>;
  onStarted?: (server: RunningCodecServer) => void;
}

const usage = `Usage: tango-campaigns codec-server [options]

Serves Temporal's remote codec protocol (POST /encode, /decode, also under /<namespace>/) so the
Temporal Web UI and \`temporal --codec-endpoint\` can show payloads encrypted with CODEC_KEYS.
Stops on Ctrl+C (SIGINT) or SIGTERM.

  --host <address>   interface to listen on (env CODEC_SERVER_HOST, default 127.0.0.1)
  --port <n>         port, 0 = any free port (env CODEC_SERVER_PORT, default 8888)
  -h, --help         show this help

Also read from the environment: CODEC_KEYS (required: the keys the worker encrypts with),
CODEC_SERVER_TOKEN (bearer token; required off loopback), CODEC_SERVER_CORS_ORIGIN (the Web UI's
origin, default http://localhost:8233). See docs/cli.md.
`;

function defaultIo(): CodecCliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}

/** 0 after a clean stop, 2 for bad flags or configuration, 1 when it cannot listen. */
export async function runCodecServerCli(args: string[], io: CodecCliIo = defaultIo()): Promise<number> {
  const fail = (code: number, message: string, withUsage = false) => {
    io.stderr(`tango-campaigns codec-server: ${message}\n${withUsage ? `\n${usage}` : ''}`);
    return code;
  };
  let flags: { host?: string; port?: string };
  try {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    flags = values;
  } catch (error) {
    return fail(2, (error as Error).message, true);
  }

  // Flags go through the same validation as the variables they stand for.
  const env = { ...io.env };
  if (flags.port !== undefined) env['CODEC_SERVER_PORT'] = flags.port;
  const host = (flags.host ?? env['CODEC_SERVER_HOST'] ?? '').trim() || '127.0.0.1';
  let config: ReturnType<typeof loadCodecConfig>;
  try {
    config = loadCodecConfig(env);
    if (config.keys.length === 0) {
      throw new ConfigError(
        'CODEC_KEYS',
        'is required: the codec server decrypts with the keys the worker encrypts with (`<keyId>:<base64 32-byte key>`)',
      );
    }
    // Without a token, anyone who reaches the port can decrypt every payload it is shown.
    if (!isLoopbackHost(host) && config.serverToken === undefined) {
      throw new ConfigError(
        'CODEC_SERVER_TOKEN',
        `is required off loopback (--host / CODEC_SERVER_HOST is ${host}): without it anyone who reaches the port can decrypt payloads`,
      );
    }
  } catch (error) {
    const message =
      error instanceof ConfigError ? `configuration: ${error.message}` : (error as Error).message;
    return fail(2, message);
  }

  let server: RunningCodecServer;
  try {
    server = await startCodecServer({
      codec: new AesGcmPayloadCodec(config.keys),
      token: config.serverToken,
      corsOrigins: config.corsOrigins,
      host,
      port: config.serverPort,
      logger: {
        warn: (message, meta) =>
          io.stderr(
            `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: message, ...meta })}\n`,
          ),
      },
    });
  } catch (error) {
    return fail(1, `could not listen on ${host}:${config.serverPort}: ${(error as Error).message}`);
  }
  io.stdout(
    [
      `Codec server listening on ${server.url}`,
      `  keys: ${config.keys.length} (current: ${config.keys[0]!.id})`,
      `  bearer token: ${config.serverToken === undefined ? 'none (loopback only)' : 'required (CODEC_SERVER_TOKEN)'}`,
      `  browser origins allowed: ${config.corsOrigins.join(', ')}`,
      `  Web UI: set the codec endpoint to ${server.url}; CLI: temporal --codec-endpoint '${server.url}/{namespace}'`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  io.onStarted?.(server);
  const signal = await (io.stopSignal ?? waitForShutdownSignal());
  await server.close();
  io.stdout(`Codec server stopped (${signal}).\n`);
  return 0;
}

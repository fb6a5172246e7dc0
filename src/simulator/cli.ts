// `tango-campaigns simulator`: runs the simulator in the foreground until SIGINT/SIGTERM.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isLoopbackHost } from '../tango/config.ts';
import { SIMULATOR_CREDENTIAL_DEFAULTS } from './defaults.ts';
import { mergeOptions, type SimulatorOptionsPatch } from './options.ts';
import { startSimulator, type RunningSimulator } from './server.ts';
import { waitForShutdownSignal } from '../shutdown-signal.ts';

const usage = `Usage: tango-campaigns simulator [options]

  --host <address>            interface to listen on (default 127.0.0.1)
  --port <n>                  port (default ${SIMULATOR_CREDENTIAL_DEFAULTS.port}; 0 = any free port)
  --config <file.json>        simulator options as JSON (see docs/simulator.md); flags override it
  --processing-delay-ms <n>   delay before an order starts processing (default 50)
  --throughput <n>            line items processed per second, 0 = unlimited (default 0)
  --seed <n>                  seed for random failure rates and faults (default 1)
  --rate-limit-tps <n>        answer 429 above this many requests per second (default 0 = off)
  --create-shape <s>          POST response shape: summary | order | alternate (default summary)
  -h, --help                  show this help

The /_admin endpoints (ledger, config with credentials, funds, clock) answer only on loopback,
unless SIMULATOR_ADMIN_TOKEN (or adminToken in --config) is set: then they need
Authorization: Bearer <token>, wherever the simulator listens.
`;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT / SIGTERM by default). */
  stopSignal?: Promise<string>;
  onStarted?: (simulator: RunningSimulator) => void;
  /** Where SIMULATOR_ADMIN_TOKEN is read (default process.env). */
  env?: Record<string, string | undefined>;
}

function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new Error(`--${name} must be a number, got '${value}'`);
  }
  return parsed;
}

export async function runSimulatorCli(args: string[], io: CliIo = defaultIo()): Promise<number> {
  let patch: SimulatorOptionsPatch;
  try {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        config: { type: 'string' },
        'processing-delay-ms': { type: 'string' },
        throughput: { type: 'string' },
        seed: { type: 'string' },
        'rate-limit-tps': { type: 'string' },
        'create-shape': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    let fromFile: unknown = {};
    if (values.config) {
      const text = await readFile(values.config, 'utf8').catch((error: unknown) => {
        throw new Error(`cannot read --config ${values.config}: ${(error as Error).message}`);
      });
      try {
        fromFile = JSON.parse(text) as unknown;
      } catch (error) {
        throw new Error(`--config ${values.config} is not valid JSON: ${(error as Error).message}`);
      }
    }
    const flags: Record<string, unknown> = {
      host: values.host,
      port: numberFlag('port', values.port),
      seed: numberFlag('seed', values.seed),
      processingDelayMs: numberFlag('processing-delay-ms', values['processing-delay-ms']),
      throughput: numberFlag('throughput', values.throughput),
    };
    const adminToken = (io.env ?? process.env)['SIMULATOR_ADMIN_TOKEN']?.trim();
    if (adminToken) flags['adminToken'] = adminToken;
    const rateLimitTps = numberFlag('rate-limit-tps', values['rate-limit-tps']);
    if (rateLimitTps !== undefined) flags['faults'] = { rateLimitTps };
    if (values['create-shape'] !== undefined) flags['responses'] = { createShape: values['create-shape'] };
    patch = mergeOptions(
      mergeOptions({ port: SIMULATOR_CREDENTIAL_DEFAULTS.port }, fromFile),
      flags,
    ) as SimulatorOptionsPatch;
  } catch (error) {
    io.stderr(`tango-campaigns simulator: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }

  let simulator: RunningSimulator;
  try {
    simulator = await startSimulator(patch);
  } catch (error) {
    io.stderr(`tango-campaigns simulator: could not start: ${(error as Error).message}\n`);
    return 1;
  }
  const credentialSource = simulator.options.credentials
    ? 'the credentials in --config'
    : 'the local defaults (LOCAL_SIMULATOR_DEFAULTS in src/tango/config.ts; the client uses them when TANGO_BASE_URL is loopback)';
  io.stdout(
    [
      `Tango simulator listening on ${simulator.baseUrl}`,
      `  TANGO_BASE_URL=${simulator.baseUrl}`,
      `  TANGO_OAUTH_TOKEN_URL=${simulator.tokenUrl}`,
      `  admin: ${simulator.adminUrl} (ledger, stats, config, funds)${simulator.options.adminToken !== undefined ? ': bearer token required' : isLoopbackHost(simulator.host) ? ': loopback only' : ': REFUSED (not loopback and no SIMULATOR_ADMIN_TOKEN)'}`,
      `  credentials: ${credentialSource}`,
      `  customer ${SIMULATOR_CREDENTIAL_DEFAULTS.customerIdentifier}, account ${SIMULATOR_CREDENTIAL_DEFAULTS.accountIdentifier} unless --config sets accounts`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  io.onStarted?.(simulator);
  const signal = await (io.stopSignal ?? waitForShutdownSignal());
  await simulator.close();
  io.stdout(`Tango simulator stopped (${signal}).\n`);
  return 0;
}

function defaultIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
}

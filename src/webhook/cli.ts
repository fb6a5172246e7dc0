// `tango-campaigns webhook` (run the receiver until SIGINT/SIGTERM) and
// `tango-campaigns register-webhook` (subscribe a public URL to Tango's AsyncOrderStatus events).
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { TangoClient } from '../tango/client.ts';
import { ConfigError, isLoopbackUrl, loadTangoConfig } from '../tango/config.ts';
import { loadWebhookConfig, WEBHOOK_DEFAULTS } from './config.ts';
import {
  jsonLineLogger,
  startWebhookReceiver,
  type RunningWebhookReceiver,
  type WebhookLogger,
} from './receiver.ts';
import { registerWebhook } from './registration.ts';
import { loadTemporalConnectConfig } from './temporal-connection.ts';
import { waitForShutdownSignal } from '../shutdown-signal.ts';

export interface WebhookCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** The environment to read configuration from (the entry point passes process.env). */
  env: Record<string, string | undefined>;
  /** Resolves when the receiver should stop (SIGINT / SIGTERM by default). */
  stopSignal?: Promise<string>;
  onStarted?: (receiver: RunningWebhookReceiver) => void;
  logger?: WebhookLogger;
}

const webhookUsage = `Usage: tango-campaigns webhook [options]

Runs the receiver for Tango's AsyncOrderStatus webhooks: verifies each event's signature and
signals the order workflow it belongs to. Stops on Ctrl+C (SIGINT) or SIGTERM.

  --host <address>   interface to listen on (env WEBHOOK_HOST, default ${WEBHOOK_DEFAULTS.host})
  --port <n>         port, 0 = any free port (env WEBHOOK_PORT, default ${WEBHOOK_DEFAULTS.port})
  --path <path>      path Tango POSTs to (env WEBHOOK_PATH, default ${WEBHOOK_DEFAULTS.path})
  -h, --help         show this help

Off loopback (any --host but 127.0.0.1 / ::1 / localhost) it refuses to start without
TANGO_WEBHOOK_HMAC_SECRET (or a certificate); verification 'none' there needs
TANGO_WEBHOOK_ALLOW_UNVERIFIED=true.

Also read from the environment: WEBHOOK_MAX_BODY_BYTES; signature checks from TANGO_WEBHOOK_*
(VERIFICATION, HMAC_SECRET, CERTIFICATE, SIGNATURE_HEADER, MAX_AGE_SECONDS, ALLOW_UNVERIFIED,
ALLOW_UNDATED); sources from TANGO_WEBHOOK_ALLOWED_IPS and TANGO_WEBHOOK_TRUSTED_PROXIES; Temporal from
TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default 'default'), TEMPORAL_API_KEY,
TLS and profile settings (see docs/operations.md, "Webhook receiver").
`;

const registerUsage = `Usage: tango-campaigns register-webhook --url <public url> [--json]

Registers the webhook receiver with Tango (POST /webhooks) for AsyncOrderStatus events, with the
verification method and secret or certificate from TANGO_WEBHOOK_* (the ones the receiver checks).

  --url <url>    the receiver's public URL, e.g. https://hooks.example.com/webhooks/tango
  --json         print the result as JSON
  -h, --help     show this help
`;

function defaultIo(): WebhookCliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}

/** `tango-campaigns webhook`: 0 after a clean stop, 2 for bad flags or configuration, 1 otherwise. */
export async function runWebhookCli(args: string[], io: WebhookCliIo = defaultIo()): Promise<number> {
  const fail = (code: number, message: string, usage = '') => {
    io.stderr(`tango-campaigns webhook: ${message}\n${usage ? `\n${usage}` : ''}`);
    return code;
  };
  let flags: { host?: string; port?: string; path?: string };
  try {
    const { values } = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        path: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(webhookUsage);
      return 0;
    }
    flags = values;
  } catch (error) {
    return fail(2, (error as Error).message, webhookUsage);
  }

  let settings: ReturnType<typeof loadWebhookConfig>;
  let verification: ReturnType<typeof loadTangoConfig>['webhook'];
  let temporal: ReturnType<typeof loadTemporalConnectConfig>;
  try {
    // Flags go through the same validation as the variables they stand for.
    const env = { ...io.env };
    if (flags.host !== undefined) env['WEBHOOK_HOST'] = flags.host;
    if (flags.port !== undefined) env['WEBHOOK_PORT'] = flags.port;
    if (flags.path !== undefined) env['WEBHOOK_PATH'] = flags.path;
    settings = loadWebhookConfig(env);
    verification = loadTangoConfig(env, {
      receiverHost: settings.host,
      receiverBehindProxy: settings.trustedProxies !== undefined,
    }).webhook;
    temporal = loadTemporalConnectConfig(env);
  } catch (error) {
    const message =
      error instanceof ConfigError ? `configuration: ${error.message}` : (error as Error).message;
    return fail(2, message);
  }

  // Lazy: the receiver comes up even while Temporal is down, answers 503 (Tango redelivers) and
  // reports not-ready on /readyz until Temporal is back.
  const connection = Connection.lazy(temporal.connectionOptions);
  const client = new Client({ connection, namespace: temporal.namespace });
  let receiver: RunningWebhookReceiver;
  try {
    receiver = await startWebhookReceiver({
      ...settings,
      client,
      verification,
      logger: io.logger ?? jsonLineLogger(io.stdout),
    });
  } catch (error) {
    await connection.close().catch(() => undefined);
    const message = (error as Error).message;
    if (message.startsWith('refusing to start')) return fail(2, `configuration: ${message}`);
    return fail(1, `could not listen on ${settings.host}:${settings.port}: ${message}`);
  }
  const readyUrl = new URL('/readyz', receiver.url).href;
  const reachable = await connection
    .withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}))
    .then(
      () => 'reachable',
      (error: unknown) =>
        `NOT reachable yet (${(error as Error).message}); events get 503 until it is, see ${readyUrl}`,
    );
  io.stdout(
    [
      `Tango webhook receiver listening on ${receiver.url}`,
      verification.method === 'none'
        ? '  signature: NOT VERIFIED (TANGO_WEBHOOK_VERIFICATION=none): anyone who reaches this port can post events'
        : `  signature: ${verification.method.toUpperCase()} in header ${verification.headerName}${verification.usesSimulatorSecret ? " with the simulator's public test secret (local development only)" : ''}, events older than ${verification.maxAgeSeconds} s${verification.allowUndated ? '' : ' or undated'} refused`,
      `  sources: ${settings.allowedIps ? settings.allowedIps.entries.join(', ') : 'any (TANGO_WEBHOOK_ALLOWED_IPS unset)'}${settings.trustedProxies ? `; X-Forwarded-For believed from ${settings.trustedProxies.entries.join(', ')}` : ''}`,
      `  Temporal: ${temporal.connectionOptions.address} namespace ${temporal.namespace}: ${reachable}`,
      `  health: ${new URL('/healthz', receiver.url).href}  readiness: ${readyUrl}`,
      `  register it with Tango: tango-campaigns register-webhook --url <public URL ending in ${settings.path}>`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
  io.onStarted?.(receiver);
  const signal = await (io.stopSignal ?? waitForShutdownSignal());
  await receiver.close();
  await connection.close().catch(() => undefined);
  io.stdout(`Tango webhook receiver stopped (${signal}).\n`);
  return 0;
}

/** `tango-campaigns register-webhook`: 0 when Tango accepted it, 2 for bad input, 1 when Tango refused. */
export async function runRegisterWebhookCli(
  args: string[],
  io: Omit<WebhookCliIo, 'stopSignal' | 'onStarted' | 'logger'> = defaultIo(),
  // Tests pass a client with their own options; the command builds one from the environment.
  makeTango: (config: ReturnType<typeof loadTangoConfig>) => Pick<TangoClient, 'registerWebhook'> = (
    config,
  ) => new TangoClient(config),
): Promise<number> {
  const fail = (code: number, message: string, usage = '') => {
    io.stderr(`tango-campaigns register-webhook: ${message}\n${usage ? `\n${usage}` : ''}`);
    return code;
  };
  let url: string;
  let json: boolean;
  try {
    const { values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      io.stdout(registerUsage);
      return 0;
    }
    if (!values.url) return fail(2, '--url is required', registerUsage);
    let parsed: URL;
    try {
      parsed = new URL(values.url);
    } catch {
      return fail(2, `--url '${values.url}' is not an absolute URL`, registerUsage);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      return fail(2, `--url must be http(s), got '${parsed.protocol}'`, registerUsage);
    }
    url = parsed.href;
    json = values.json ?? false;
  } catch (error) {
    return fail(2, (error as Error).message, registerUsage);
  }

  let config: ReturnType<typeof loadTangoConfig>;
  try {
    config = loadTangoConfig(io.env);
  } catch (error) {
    return fail(2, `configuration: ${(error as Error).message}`);
  }
  if (!config.isLoopback && (new URL(url).protocol !== 'https:' || isLoopbackUrl(url))) {
    io.stderr(
      `tango-campaigns register-webhook: warning: ${url} is not a public https URL; Tango (${config.baseUrl}) may not be able to reach it\n`,
    );
  }
  try {
    const result = await registerWebhook(makeTango(config), url, config.webhook);
    if (json) {
      io.stdout(
        `${JSON.stringify({ id: result.id ?? null, url: result.url, payloadVerificationMethod: result.payloadVerificationMethod, tango: config.baseUrl })}\n`,
      );
    } else {
      io.stdout(
        [
          `Registered ${result.url} with Tango (${config.baseUrl}) for AsyncOrderStatus events.`,
          `  subscription id: ${result.id ?? '(Tango returned no id)'}`,
          `  verification: ${result.payloadVerificationMethod}`,
          '',
        ].join('\n'),
      );
    }
    return 0;
  } catch (error) {
    return fail(1, `Tango refused the registration: ${(error as Error).message}`);
  }
}

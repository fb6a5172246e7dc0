// `tango-campaigns register-webhook`: registers the receiver with Tango (src/webhook/cli.ts does
// the registration and its output) and then starts the workflow that renews the subscription
// before it expires. With OAuth the registration uses the workers' shared token.
import { Client, Connection } from '@temporalio/client';
import { codecDataConverter, loadCodecConfig } from '../codec/aes-gcm-codec.ts';
import { loadTemporalConfig } from '../config.ts';
import type { WebhookRegistrationResponse } from '../tango/schemas.ts';
import { runRegisterWebhookCli } from '../webhook/cli.ts';
import { startWebhookRenewal, type WebhookRenewalStart } from '../webhook/renewal.ts';
import { loadTemporalConnectConfig } from '../webhook/temporal-connection.ts';
import { type CliIo, EXIT } from './context.ts';
import { sharedTangoClient } from './tango-client.ts';

const renewalHelp = `
After Tango accepts the registration, a webhookSubscriptionWorkflow is started on the workers'
task queue (TEMPORAL_TASK_QUEUE) to renew the subscription before it expires and to register the
URL again if Tango loses it. --no-renew skips that (renew it yourself, or events stop arriving).
`;

export type StartRenewal = (
  env: CliIo['env'],
  input: { webhookId: string; url: string; expiresAt?: string },
) => Promise<WebhookRenewalStart>;

async function startRenewalFromEnv(
  env: CliIo['env'],
  input: { webhookId: string; url: string; expiresAt?: string },
): Promise<WebhookRenewalStart> {
  const { connectionOptions, namespace } = loadTemporalConnectConfig(env);
  const connection = await Connection.connect(connectionOptions);
  try {
    const client = new Client({
      connection,
      namespace,
      dataConverter: codecDataConverter(loadCodecConfig(env)),
    });
    return await startWebhookRenewal(client, loadTemporalConfig(env).taskQueue, input);
  } finally {
    await connection.close();
  }
}

export async function runRegisterWebhook(
  args: string[],
  io: CliIo,
  startRenewal: StartRenewal = startRenewalFromEnv,
): Promise<number> {
  const renew = !args.includes('--no-renew');
  const rest = args.filter((arg) => arg !== '--no-renew');
  const json = rest.includes('--json');
  let output = '';
  let registered: { request: { url: string }; response: WebhookRegistrationResponse } | undefined;
  const code = await runRegisterWebhookCli(
    rest,
    { stdout: (text) => (output += text), stderr: (text) => io.stderr.write(text), env: io.env },
    (config) => ({
      registerWebhook: async (request, call) => {
        const response = await (await sharedTangoClient(config, io.env)).registerWebhook(request, call);
        registered = { request, response };
        return response;
      },
    }),
  );
  if (rest.includes('--help') || rest.includes('-h')) output += renewalHelp;
  if (code !== EXIT.ok || !registered || !renew) {
    io.stdout.write(output);
    return code;
  }
  const webhookId = registered.response.id;
  let renewal: WebhookRenewalStart | { error: string };
  if (webhookId === undefined) {
    renewal = { error: 'Tango returned no subscription id: it cannot be renewed' };
  } else {
    try {
      renewal = await startRenewal(io.env, {
        webhookId,
        url: registered.request.url,
        ...(registered.response.expiresAt ? { expiresAt: registered.response.expiresAt } : {}),
      });
    } catch (error) {
      renewal = { error: (error as Error).message };
    }
  }
  if (json) {
    const parsed = JSON.parse(output) as Record<string, unknown>;
    io.stdout.write(`${JSON.stringify({ ...parsed, renewal })}\n`);
  } else {
    const line =
      'error' in renewal
        ? `  renewal: NOT started (${renewal.error})`
        : `  renewal: workflow ${renewal.workflowId}${renewal.started ? ' started' : ' already running'}` +
          (registered.response.expiresAt ? `, subscription expires ${registered.response.expiresAt}` : '');
    io.stdout.write(`${output.trimEnd()}\n${line}\n`);
  }
  if ('error' in renewal) {
    io.stderr.write(
      'tango-campaigns register-webhook: the subscription is registered but will not be renewed; ' +
        'start the renewal once Temporal is reachable (run register-webhook again) or events stop when it expires\n',
    );
    return EXIT.failed;
  }
  return EXIT.ok;
}

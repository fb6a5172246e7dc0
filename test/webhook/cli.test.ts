// The `webhook` and `register-webhook` commands and the receiver's configuration: an X.509-signed
// round trip (register with the simulator, the simulator signs, the receiver verifies and signals),
// the real process stopping on SIGTERM, and the errors an operator sees.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { orderWorkflowId } from '../../src/definitions.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { TangoClient } from '../../src/tango/client.ts';
import { ConfigError, LOCAL_SIMULATOR_DEFAULTS, loadTangoConfig } from '../../src/tango/config.ts';
import { runRegisterWebhookCli, runWebhookCli } from '../../src/webhook/cli.ts';
import { loadWebhookConfig } from '../../src/webhook/config.ts';
import type { RunningWebhookReceiver } from '../../src/webhook/receiver.ts';
import { webhookRegistrationFor } from '../../src/webhook/registration.ts';
import { loadTemporalConnectConfig } from '../../src/webhook/temporal-connection.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { generateSelfSignedCertificate } from '../tango/helpers/x509.ts';
import { noticeRecorderWorkflow, noticesQuery } from '../workflows/notice-recorder.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const workflowsPath = fileURLToPath(new URL('../workflows/notice-recorder.ts', import.meta.url));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text: string) => void out.push(text),
    stderr: (text: string) => void err.push(text),
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

async function waitUntil<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('receiver configuration', () => {
  it('has the documented defaults and reads WEBHOOK_*', () => {
    assert.deepEqual(loadWebhookConfig({}), {
      host: '127.0.0.1',
      port: 8787,
      path: '/webhooks/tango',
      maxBodyBytes: 16 * 1024,
    });
    assert.deepEqual(
      loadWebhookConfig({
        WEBHOOK_HOST: '0.0.0.0',
        WEBHOOK_PORT: '0',
        WEBHOOK_PATH: '/hooks/tango/',
        WEBHOOK_MAX_BODY_BYTES: '65536',
      }),
      { host: '0.0.0.0', port: 0, path: '/hooks/tango', maxBodyBytes: 65536 },
    );
    assert.equal(loadWebhookConfig({ WEBHOOK_PORT: '' }).port, 8787);
    const sources = loadWebhookConfig({
      TANGO_WEBHOOK_ALLOWED_IPS: '203.0.113.7, 198.51.100.0/24,2001:db8::/32',
      TANGO_WEBHOOK_TRUSTED_PROXIES: '10.0.0.1',
    });
    assert.deepEqual(sources.allowedIps?.entries, ['203.0.113.7', '198.51.100.0/24', '2001:db8::/32']);
    assert.equal(sources.allowedIps?.has('198.51.100.42'), true);
    assert.equal(sources.allowedIps?.has('::ffff:203.0.113.7'), true);
    assert.equal(sources.allowedIps?.has('203.0.113.8'), false);
    assert.equal(sources.trustedProxies?.has('10.0.0.1'), true);
  });

  it('names the variable that is wrong', () => {
    const cases: [Record<string, string>, string][] = [
      [{ WEBHOOK_PORT: 'eighty' }, 'WEBHOOK_PORT'],
      [{ WEBHOOK_PORT: '70000' }, 'WEBHOOK_PORT'],
      [{ WEBHOOK_PATH: 'webhooks' }, 'WEBHOOK_PATH'],
      [{ WEBHOOK_PATH: '/hooks?x=1' }, 'WEBHOOK_PATH'],
      [{ WEBHOOK_MAX_BODY_BYTES: '10' }, 'WEBHOOK_MAX_BODY_BYTES'],
      [{ WEBHOOK_MAX_BODY_BYTES: String(2 * 1024 * 1024) }, 'WEBHOOK_MAX_BODY_BYTES'],
      [{ TANGO_WEBHOOK_ALLOWED_IPS: '203.0.113.0/33' }, 'TANGO_WEBHOOK_ALLOWED_IPS'],
      [{ TANGO_WEBHOOK_ALLOWED_IPS: 'tango.example.com' }, 'TANGO_WEBHOOK_ALLOWED_IPS'],
      [{ TANGO_WEBHOOK_TRUSTED_PROXIES: ' , ' }, 'TANGO_WEBHOOK_TRUSTED_PROXIES'],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => loadWebhookConfig(env),
        (error: unknown) => error instanceof ConfigError && error.variable === variable,
        JSON.stringify(env),
      );
    }
  });

  it('connects to the local dev server unless TEMPORAL_* say otherwise', () => {
    const local = loadTemporalConnectConfig({ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' });
    assert.equal(local.connectionOptions.address, '127.0.0.1:7233');
    assert.equal(local.namespace, 'default');
    const cloud = loadTemporalConnectConfig({
      TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
      TEMPORAL_API_KEY: 'key-123',
    });
    assert.equal(cloud.connectionOptions.address, 'my-ns.a1b2c.tmprl.cloud:7233');
    assert.equal(cloud.namespace, 'my-ns.a1b2c');
    assert.equal(cloud.connectionOptions.apiKey, 'key-123');
    assert.ok(cloud.connectionOptions.tls, 'an API key turns TLS on');
  });

  it('builds the registration from the verification settings', () => {
    const hmac = loadTangoConfig({}).webhook;
    assert.deepEqual(webhookRegistrationFor('https://hooks.example.com/webhooks/tango', hmac), {
      url: 'https://hooks.example.com/webhooks/tango',
      categories: ['ORDER'],
      eventTypes: ['AsyncOrderStatus'],
      payloadVerificationMethod: 'HMAC',
      hmacSharedSecretKey: LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret,
    });
    const none = webhookRegistrationFor('https://h.example.com/x', { ...hmac, method: 'none' });
    assert.equal(none.payloadVerificationMethod, 'NONE');
    assert.equal(none.hmacSharedSecretKey, undefined);
    const cert = generateSelfSignedCertificate();
    const x509 = loadTangoConfig({
      TANGO_WEBHOOK_VERIFICATION: 'x509',
      TANGO_WEBHOOK_CERTIFICATE: cert.certificatePem,
    }).webhook;
    const registration = webhookRegistrationFor('https://h.example.com/x', x509);
    assert.equal(registration.payloadVerificationMethod, 'X509');
    assert.equal(registration.signingCertificate, cert.certificateBase64Der);
  });
});

describe('tango-campaigns webhook and register-webhook', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let simulator: RunningSimulator;
  const cert = generateSelfSignedCertificate();

  before(async () => {
    env = await createLocalEnv();
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'webhook-cli-test',
      workflowsPath,
    });
    running = worker.run();
    simulator = await startSimulator({
      processingDelayMs: 10,
      webhooks: { x509PrivateKeyPem: cert.privateKeyPem },
    });
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await simulator?.close();
  });

  it('registers the running receiver with Tango and turns X.509-signed events into signals', async () => {
    const commandEnv = {
      TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
      TEMPORAL_ADDRESS: env.address,
      TANGO_BASE_URL: simulator.baseUrl,
      TANGO_WEBHOOK_VERIFICATION: 'x509',
      TANGO_WEBHOOK_CERTIFICATE: cert.certificateBase64Der,
      WEBHOOK_PORT: '0',
    };
    const io = capture();
    let stop!: (signal: string) => void;
    let started!: (receiver: RunningWebhookReceiver) => void;
    const receiverReady = new Promise<RunningWebhookReceiver>((resolve) => (started = resolve));
    const exit = runWebhookCli([], {
      ...io,
      env: commandEnv,
      stopSignal: new Promise((resolve) => (stop = resolve)),
      onStarted: started,
    });
    const receiver = await receiverReady;
    assert.match(io.out(), new RegExp(`listening on ${receiver.url}`));
    assert.match(io.out(), /X509 in header X-Signed-Payload/);
    assert.match(io.out(), /namespace default: reachable/);

    const registration = capture();
    const registered = await runRegisterWebhookCli(['--url', receiver.url, '--json'], {
      ...registration,
      env: commandEnv,
    });
    assert.equal(registered, 0, registration.err());
    const result = JSON.parse(registration.out()) as {
      id: string;
      url: string;
      payloadVerificationMethod: string;
    };
    const [subscription] = simulator.webhookSubscriptions();
    assert.equal(result.id, subscription?.webhookId);
    assert.equal(subscription?.url, receiver.url);
    assert.equal(subscription?.payloadVerificationMethod, 'X509');
    assert.equal(subscription?.signingCertificate, cert.certificateBase64Der);

    const handle = await env.client.workflow.start(noticeRecorderWorkflow, {
      taskQueue: 'webhook-cli-test',
      workflowId: orderWorkflowId('cli-order-0'),
      args: ['5 minutes'],
    });
    const tango = new TangoClient(loadTangoConfig({ TANGO_BASE_URL: simulator.baseUrl }));
    await tango.createAsyncOrder({
      externalRefID: 'cli-order-0',
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-1',
      lineItems: [
        {
          externalRefLineItemID: 'cli-item-1',
          recipient: { firstName: 'Ada', lastName: 'Lovelace', email: 'cli-item-1@example.com' },
          utid: 'U000001',
          amount: 5,
          deliveryMethod: 'EMAIL',
        },
      ],
    });
    const notices = await waitUntil(
      () => handle.query(noticesQuery),
      (list) => list.length > 0,
    );
    assert.equal(notices[0]?.externalRefID, 'cli-order-0');
    assert.equal(notices[0]?.status, 'SUCCESSFUL');
    assert.ok(
      simulator
        .webhookDeliveries()
        .some((delivery) => delivery.outcome === 'delivered' && delivery.httpStatus === 200),
    );
    // The per-event log line went to stdout as JSON.
    const logLine = io
      .out()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line['externalRefID'] === 'cli-order-0');
    assert.equal(logLine?.['outcome'], 'signalled');

    stop('SIGTERM');
    assert.equal(await exit, 0);
    assert.match(io.out(), /stopped \(SIGTERM\)/);
    await handle.terminate('test over');
  });

  it('register-webhook: usage and configuration errors exit 2, a refusal or unreachable Tango exits 1', async () => {
    const env2 = { TANGO_BASE_URL: simulator.baseUrl };
    const cases: [string[], Record<string, string>, number, RegExp][] = [
      [[], env2, 2, /--url is required/],
      [['--url', 'not a url'], env2, 2, /not an absolute URL/],
      [['--url', 'ftp://example.com/x'], env2, 2, /must be http\(s\)/],
      [['--url', 'https://h.example.com/x', '--bogus'], env2, 2, /bogus/],
      [
        ['--url', 'https://h.example.com/x'],
        { ...env2, TANGO_WEBHOOK_VERIFICATION: 'maybe' },
        2,
        /TANGO_WEBHOOK_VERIFICATION/,
      ],
      [
        ['--url', 'https://h.example.com/x'],
        {
          TANGO_BASE_URL: 'https://api.example.com/raas/v2',
          TANGO_PLATFORM_NAME: 'p',
          TANGO_PLATFORM_KEY: 'k',
        },
        2,
        /TANGO_WEBHOOK_HMAC_SECRET/,
      ],
      [
        ['--url', 'https://h.example.com/x'],
        { TANGO_BASE_URL: 'http://127.0.0.1:9/raas/v2', TANGO_TIMEOUT_MS: '2000' },
        1,
        /Tango refused the registration/,
      ],
    ];
    for (const [args, env, code, message] of cases) {
      const io = capture();
      assert.equal(await runRegisterWebhookCli(args, { ...io, env }), code, args.join(' '));
      assert.match(io.err(), message, args.join(' '));
    }
    const help = capture();
    assert.equal(await runRegisterWebhookCli(['--help'], { ...help, env: {} }), 0);
    assert.match(help.out(), /Usage: tango-campaigns register-webhook --url/);
  });

  it('webhook: bad configuration exits 2, a port in use exits 1', async () => {
    const bad = capture();
    assert.equal(await runWebhookCli([], { ...bad, env: { WEBHOOK_PORT: 'x' } }), 2);
    assert.match(bad.err(), /WEBHOOK_PORT/);
    const badFlag = capture();
    assert.equal(await runWebhookCli(['--path', 'nope'], { ...badFlag, env: {} }), 2);
    assert.match(badFlag.err(), /WEBHOOK_PATH/);

    // Off loopback: no public default secret, no unverified events without the explicit override.
    const exposed = capture();
    assert.equal(await runWebhookCli(['--host', '0.0.0.0'], { ...exposed, env: {} }), 2);
    assert.match(exposed.err(), /TANGO_WEBHOOK_HMAC_SECRET: is required: the receiver listens on 0\.0\.0\.0/);
    const unverified = capture();
    assert.equal(
      await runWebhookCli(['--host', '0.0.0.0'], {
        ...unverified,
        env: { TANGO_WEBHOOK_VERIFICATION: 'none' },
      }),
      2,
    );
    assert.match(unverified.err(), /TANGO_WEBHOOK_VERIFICATION: 'none' is refused/);
    const proxied = capture();
    assert.equal(
      await runWebhookCli([], { ...proxied, env: { TANGO_WEBHOOK_TRUSTED_PROXIES: '127.0.0.1' } }),
      2,
    );
    assert.match(proxied.err(), /TANGO_WEBHOOK_HMAC_SECRET: is required: the receiver is behind a proxy/);

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const busy = capture();
      const code = await runWebhookCli(['--port', String(port)], {
        ...busy,
        env: { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml', TEMPORAL_ADDRESS: env.address },
      });
      assert.equal(code, 1);
      assert.match(busy.err(), /could not listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('the real command stops cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'webhook', '--port', '0'],
        {
          cwd: repoRoot,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml',
            TEMPORAL_ADDRESS: env.address,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const listening = await waitUntil(
        () => Promise.resolve(/listening on (http:\/\/\S+)/.exec(out)),
        (match) => match !== null || child.exitCode !== null,
        30_000,
      );
      assert.ok(listening, `no "listening on" line; stderr: ${err}`);
      const health = await fetch(new URL('/readyz', listening[1]));
      assert.equal(health.status, 200);
      await health.arrayBuffer();
      child.kill(signal);
      assert.equal(await exited, 0, err);
      assert.match(out, new RegExp(`stopped \\(${signal}\\)`));
    }
  });
});

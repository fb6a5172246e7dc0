// The worker as operators run it: `tango-campaigns worker` as a child process configured only by
// environment, against a dev server and the simulator; it runs a campaign with encrypted payloads,
// serves metrics, keeps secrets out of its logs and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { codecDataConverter, ENCRYPTED_ENCODING, loadCodecConfig } from '../../src/codec/index.ts';
import { allSearchAttributes, campaignWorkflowId } from '../../src/definitions.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { campaignWorkflow } from '../../src/workflows/index.ts';
import { lineItem } from '../helpers/campaign-stack.ts';
import { type RunningS3Server, startS3Server } from '../helpers/s3.ts';
import { createLocalEnv } from '../helpers/temporal.ts';
import { spawnWorker, waitForOutput, type WorkerProcess } from '../helpers/worker-process.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const secrets = {
  platformKey: 'platform-key-that-must-never-be-logged',
  hmac: randomBytes(32).toString('base64'),
  codecKey: randomBytes(32).toString('base64'),
};

describe('tango-campaigns worker (child process)', () => {
  let env: TestWorkflowEnvironment;
  let simulator: RunningSimulator;
  let storeDir: string;
  let worker: WorkerProcess | undefined;
  let metricsPort: number;
  const taskQueue = 'worker-process-test';

  before(async () => {
    simulator = await startSimulator({
      processingDelayMs: 20,
      credentials: {
        platformName: 'worker-test-platform',
        platformKey: secrets.platformKey,
        oauthClientId: 'c',
        oauthClientSecret: 'client-secret-never-logged',
        oauthUsername: 'u',
        oauthPassword: 'password-never-logged',
        tokenExpiresInSeconds: 3600,
      },
    });
    env = await createLocalEnv({ searchAttributes: allSearchAttributes });
    storeDir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-worker-'));
    metricsPort = await freePort();
  });

  after(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    await env?.teardown();
    await simulator?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('runs a campaign from env, encrypted, with metrics, no secrets in logs, and exits 0 on SIGTERM', async () => {
    worker = spawnWorker({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: taskQueue,
      CAMPAIGN_STORE: `file://${storeDir}`,
      TANGO_BASE_URL: simulator.baseUrl,
      TANGO_PLATFORM_NAME: 'worker-test-platform',
      TANGO_PLATFORM_KEY: secrets.platformKey,
      TANGO_WEBHOOK_HMAC_SECRET: secrets.hmac,
      TANGO_TPS: '20',
      CODEC_KEYS: `k1:${secrets.codecKey}`,
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'debug',
      WORKER_SHUTDOWN_GRACE_SECONDS: '5',
    });
    await waitForOutput(worker, /"msg":"worker started"/, 60_000);

    const codec = loadCodecConfig({ CODEC_KEYS: `k1:${secrets.codecKey}` });
    const client = new Client({ connection: env.connection, dataConverter: codecDataConverter(codec) });
    const items = [
      ...Array.from({ length: 8 }, () => lineItem('ok')),
      lineItem('transient'),
      lineItem('blocked'),
      lineItem('wrong-method'),
    ];
    const campaignId = `worker-process-${Date.now()}`;
    const handle = await client.workflow.start(campaignWorkflow, {
      taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      args: [
        {
          campaignId,
          customerIdentifier: 'sim-customer',
          accountIdentifier: 'sim-account-1',
          items: { inline: items },
          options: {
            chunkSize: 5,
            pollInitial: '300ms',
            pollMax: '1s',
            resubmitDelay: '100ms',
            correctionWindow: '5s',
            utidFallbacks: { U000002: 'U000001' },
          },
        },
      ],
    });
    const result = await handle.result();
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.total, 11);
    assert.equal(result.counts.delivered, 10); // 8 ok, the transient one resubmitted, the auto-fixed one
    assert.equal(result.counts.givenUp, 1);
    assert.deepEqual(simulator.ledger.duplicates().lineItems, []);

    // Temporal holds only ciphertext: the start input as the server stores it.
    const history = await env.client.workflow.getHandle(campaignWorkflowId(campaignId)).fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    assert.equal(Buffer.from(input?.metadata?.encoding ?? []).toString(), ENCRYPTED_ENCODING);
    assert.ok(
      !Buffer.from(input?.data ?? [])
        .toString('latin1')
        .includes('example.test'),
    );

    // Prometheus: the SDK's metrics and our campaign counters.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /temporal_activity_execution_latency|temporal_worker_task_slots_available/);
    assert.match(metrics, /campaign_line_items_submitted_total\{[^}]*\} 1[0-9]/);
    assert.match(metrics, /campaign_line_item_failures_total\{[^}]*failure_class="transient"[^}]*\} 1/);
    assert.match(metrics, /campaign_items_delivered_total\{[^}]*\} 10/);

    const started = Date.now();
    worker.child.kill('SIGTERM');
    const code = await worker.exited;
    const elapsed = Date.now() - started;
    assert.equal(code, 0, `exit code ${code}; output:\n${worker.output()}`);
    assert.ok(elapsed < 10_000, `took ${elapsed} ms to stop`);

    const output = worker.output();
    assert.match(output, /"msg":"worker stopped"/);
    for (const secret of [
      secrets.platformKey,
      secrets.hmac,
      secrets.codecKey,
      Buffer.from(`worker-test-platform:${secrets.platformKey}`).toString('base64'),
    ])
      assert.ok(!output.includes(secret), `a secret appears in the worker's output`);
    // Every line is JSON (structured logs only).
    for (const line of output.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), line);
  });
});

describe('tango-campaigns worker with an S3 store', () => {
  let s3: RunningS3Server | undefined;
  after(async () => {
    await s3?.stop();
  });

  it(
    'checks the bucket at start and exits 1 naming it, before taking any work',
    { timeout: 60_000 },
    async () => {
      s3 = await startS3Server();
      const worker = spawnWorker({
        ...s3.env,
        CAMPAIGN_STORE: 's3://no-such-bucket-for-worker/campaigns',
        // Nothing listens here: the store check must fail first, whatever Temporal would say.
        TEMPORAL_ADDRESS: '127.0.0.1:1',
      });
      const code = await worker.exited;
      assert.equal(code, 1, worker.output());
      const line = worker
        .output()
        .split('\n')
        .find((entry) => entry.includes('could not start'));
      assert.ok(line, worker.output());
      const record = JSON.parse(line) as { level: string; msg: string; store: string };
      assert.equal(record.level, 'error');
      assert.match(record.msg, /no-such-bucket-for-worker/);
      assert.equal(record.store, 's3://no-such-bucket-for-worker/campaigns');
      assert.ok(!worker.output().includes(s3.secretAccessKey), 'the S3 secret key is not logged');
    },
  );
});

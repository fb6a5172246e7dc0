// A whole local stack for workflow integration tests: the Tango simulator, a Temporal dev server with
// our search attributes, a filesystem store in a temp directory, and a real campaign worker.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { NO_SOURCES, type SourceLimits } from '../../src/activities/sources.ts';
import type { CampaignPolicy } from '../../src/campaign/policy.ts';
import type { NotifyConfig } from '../../src/notify/config.ts';
import type { DeliveriesDeps } from '../../src/activities/deliveries.ts';
import { allSearchAttributes } from '../../src/definitions.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { FileSystemStore } from '../../src/store/filesystem.ts';
import { TangoClient } from '../../src/tango/client.ts';
import { loadTangoConfig } from '../../src/tango/config.ts';
import type { SimulatorOptionsPatch } from '../../src/simulator/options.ts';
import { type CampaignWorker, createCampaignWorker, workflowsPath } from '../../src/worker-factory.ts';
import type { ErrorClassOverrides } from '../../src/campaign/classification.ts';
import { getJson } from '../../src/store/json.ts';
import { reportJsonKey } from '../../src/store/keys.ts';
import type { CampaignProgress } from '../../src/workflows/types.ts';
import { createLocalEnv, freeLoopbackPort } from './temporal.ts';
import { checkCampaignInvariants } from '../../chaos/invariants.ts';
import { startRequestLogProxy, type RequestLogProxy } from '../../chaos/request-log.ts';
import { lineItem as sharedLineItem } from './line-items.ts';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  return bundle;
}
const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string) {
    console.error(message);
  },
  log() {},
};

export interface CampaignStack {
  env: TestWorkflowEnvironment;
  simulator: RunningSimulator;
  store: FileSystemStore;
  storeDir: string;
  tango: TangoClient;
  taskQueue: string;
  /** The Temporal Web UI's address, when the stack was started with `ui: true`. */
  uiUrl?: string;
  /** Every Tango request the worker made, when the stack was started with `recordRequests: true`. */
  requests?: RequestLogProxy;
  startWorker(options?: {
    errorClassOverrides?: ErrorClassOverrides;
    sourceLimits?: SourceLimits;
    policy?: CampaignPolicy;
    notify?: NotifyConfig;
    /** The deliveries index (repeat guard, spend limits); absent: none. */
    deliveries?: DeliveriesDeps;
  }): Promise<CampaignWorker>;
  close(): Promise<void>;
}

export async function startCampaignStack(
  options: {
    simulator?: SimulatorOptionsPatch;
    taskQueue?: string;
    serverArgs?: string[];
    /** Also serve the Temporal Web UI (on a free loopback port, see `uiUrl`). */
    ui?: boolean;
    /** Put a recording proxy between the worker and the simulator (see `requests`). */
    recordRequests?: boolean;
  } = {},
): Promise<CampaignStack> {
  const simulator = await startSimulator({ processingDelayMs: 20, ...options.simulator });
  const uiPort = options.ui ? await freeLoopbackPort() : undefined;
  const env = await createLocalEnv({
    searchAttributes: allSearchAttributes,
    extraArgs: options.serverArgs ?? [],
    ...(uiPort !== undefined ? { uiPort } : {}),
  });
  const storeDir = mkdtempSync(path.join(tmpdir(), 'tango-campaigns-store-'));
  const store = new FileSystemStore(storeDir);
  const requests = options.recordRequests ? await startRequestLogProxy(simulator.baseUrl) : undefined;
  const tango = new TangoClient(
    loadTangoConfig({ TANGO_BASE_URL: requests?.baseUrl ?? simulator.baseUrl, TANGO_TIMEOUT_MS: '5000' }),
  );
  const taskQueue = options.taskQueue ?? 'campaigns-test';
  const workers: { worker: CampaignWorker; running: Promise<void> }[] = [];
  return {
    env,
    simulator,
    store,
    storeDir,
    tango,
    taskQueue,
    ...(uiPort !== undefined ? { uiUrl: `http://127.0.0.1:${uiPort}` } : {}),
    ...(requests ? { requests } : {}),
    async startWorker(workerOptions = {}) {
      const worker = await createCampaignWorker({
        connection: env.nativeConnection,
        taskQueue,
        store,
        tango,
        workflowBundle: await workflowBundle(),
        // Scheduled-campaign tests read their sources from temporary directories.
        sourceLimits: workerOptions.sourceLimits ?? { ...NO_SOURCES, roots: [tmpdir()] },
        ...(workerOptions.policy ? { policy: workerOptions.policy } : {}),
        ...(workerOptions.notify ? { notify: workerOptions.notify } : {}),
        ...(workerOptions.deliveries ? { deliveries: workerOptions.deliveries } : {}),
        ...(workerOptions.errorClassOverrides
          ? { errorClassOverrides: workerOptions.errorClassOverrides }
          : {}),
      });
      workers.push({ worker, running: worker.run() });
      return worker;
    },
    async close() {
      for (const { worker } of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(workers.map(({ running }) => running));
      await env.teardown();
      await requests?.close();
      await simulator.close();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

let sequence = 0;

/** Events and bytes of one workflow's history, as the server counts them. */
export async function historySize(
  env: TestWorkflowEnvironment,
  workflowId: string,
): Promise<{ events: number; bytes: number }> {
  const description = await env.client.workflow.getHandle(workflowId).describe();
  return { events: description.historyLength, bytes: description.historySize ?? 0 };
}

/** A line item for the simulator's catalog; `kind` aims it at one failure rule. */
export function lineItem(
  kind: 'ok' | 'transient' | 'blocked' | 'amount-too-high' | 'wrong-method' | 'discontinued',
  index = sequence++,
): Record<string, unknown> {
  const id = `item-${kind}-${index}`;
  const domain =
    kind === 'transient' ? 'transient.test' : kind === 'blocked' ? 'blocked.test' : 'example.test';
  return sharedLineItem(id, {
    recipient: { firstName: 'Test', lastName: `Recipient ${index}`, email: `${id}@${domain}` },
    utid: kind === 'wrong-method' ? 'U000002' : kind === 'discontinued' ? 'U000004' : 'U000001',
    amount: kind === 'amount-too-high' ? 600 : 25,
  });
}

/** Polls a campaign's progress until `until` holds (or fails with the last progress seen). */
export async function waitForProgress(
  read: () => Promise<CampaignProgress>,
  until: (progress: CampaignProgress) => boolean,
  timeoutMs = 60_000,
): Promise<CampaignProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: CampaignProgress | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (until(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out; last progress: ${JSON.stringify(last)}`);
}

export interface ReportJsonRow {
  externalRefLineItemID: string;
  state: string;
  reason: string;
  failureClass: string;
  externalRefID: string;
  tangoLineItemId: string;
  tangoStatus: string;
  scheduledFor: string;
}

/**
 * The product's promises, checked against the simulator's ledger and the final report item by item
 * (chaos/invariants.ts, the same checks the chaos scenarios end with): nobody rewarded twice, every
 * input item exactly once in one terminal state, delivered = fulfilled, scheduled = scheduled (same
 * day), nothing never sent in the ledger.
 */
export async function assertCampaignInvariants(
  stack: Pick<CampaignStack, 'simulator' | 'store'>,
  campaignId: string,
  inputIds: readonly string[],
): Promise<Map<string, ReportJsonRow>> {
  assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, [], 'a line item was fulfilled twice');
  const { results } = await checkCampaignInvariants({
    simulator: stack.simulator,
    store: stack.store,
    campaignId,
    inputIds,
  });
  assert.deepEqual(
    results.filter((result) => !result.ok).map((result) => `${result.name}: ${result.detail}`),
    [],
    `campaign ${campaignId}: report and ledger disagree`,
  );
  const report = (await getJson(stack.store, reportJsonKey(campaignId))) as { items: ReportJsonRow[] };
  return new Map(report.items.map((row) => [row.externalRefLineItemID, row]));
}

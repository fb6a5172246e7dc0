// The fault-injection scenarios: each starts a fresh stack, runs a real campaign while it injects its
// faults, then checks the ledger and the report (chaos/invariants.ts) plus its own fault-specific
// expectations. Sizes come in two flavours: full (`npm run chaos`) and quick (CI smoke, --quick).
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { CampaignOptionsInput } from '../src/workflows/types.ts';
import type { CampaignResult } from '../src/workflows/types.ts';
import { InputFileError, formatInputProblem, readLineItemsFile } from '../src/input/line-items-file.ts';
import { LOCAL_SIMULATOR_DEFAULTS } from '../src/tango/config.ts';
import { signHmacPayload } from '../src/tango/webhook-signature.ts';
import type { SimulatorOptionsPatch } from '../src/simulator/index.ts';
import { checkCampaignInvariants, type InvariantResult } from './invariants.ts';
import { retryAfterViolations } from './request-log.ts';
import { campaignRef, orderExternalRefId } from '../src/campaign/ids.ts';
import { orderProgressQuery, orderWorkflowId, searchAttributes } from '../src/definitions.ts';
import { getJson } from '../src/store/json.ts';
import { reportJsonKey } from '../src/store/keys.ts';
import { startChaosStack, type ChaosStack, type ChaosStackOptions } from './stack.ts';

export type Size = 'full' | 'quick';

export interface ScenarioResult {
  name: string;
  description: string;
  size: Size;
  items: number;
  faultsInjected: Record<string, number>;
  requests: { total: number; posts: number; byRoute: Record<string, Record<string, number>> };
  durationMs: number;
  campaign?: {
    status: string;
    delivered: number;
    givenUp: number;
    cancelled: number;
    orders: number;
    rounds: number;
  };
  invariants: InvariantResult[];
  ok: boolean;
  notes: string[];
}

export interface Scenario {
  name: string;
  description: string;
  run(size: Size, log: (line: string) => void): Promise<ScenarioResult>;
}

const fastOptions: CampaignOptionsInput = {
  pollInitial: '1s',
  pollMax: '4s',
  resubmitDelay: '500ms',
  correctionWindow: '1h',
  maxRounds: 5,
  preflightBalanceCheck: false,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A seeded choice so that a scenario's kill moments can be repeated. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Campaign items: mostly deliverable, 2% transient (fail once, delivered in round 1) and 1% blocked
 * (given up as permanent), so every scenario exercises resubmission as well as the first round.
 */
export function campaignItems(count: number, prefix = 'i'): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => {
    const kind =
      index % 100 === 7 || index % 100 === 57 ? 'transient' : index % 100 === 33 ? 'blocked' : 'ok';
    const id = `${prefix}-${index}`;
    const domain =
      kind === 'transient' ? 'transient.test' : kind === 'blocked' ? 'blocked.test' : 'example.test';
    return {
      externalRefLineItemID: id,
      recipient: { firstName: 'Chaos', lastName: `Recipient ${index}`, email: `${id}@${domain}` },
      utid: 'U000001',
      amount: 5 + (index % 20),
      deliveryMethod: 'EMAIL',
    };
  });
}

interface CampaignRun {
  campaignId: string;
  items: number;
  result?: CampaignResult;
  error?: string;
  invariants: InvariantResult[];
  counts: Record<string, number>;
  durationMs: number;
}

/** Starts a campaign, runs `during` alongside it, waits for the result and checks the invariants. */
async function runCampaign(
  stack: ChaosStack,
  options: {
    items: number;
    chunkSize: number;
    campaignOptions?: CampaignOptionsInput;
    during?: (done: () => boolean, campaignId: string) => Promise<void>;
    /** Runs before the campaign starts (e.g. to stage what Tango holds already). */
    beforeStart?: (campaignId: string) => Promise<void> | void;
    /** The result status the campaign must end with (default 'completed'). */
    expectStatus?: CampaignResult['status'];
    timeoutMs: number;
  },
): Promise<CampaignRun> {
  const campaignId = `chaos-${randomUUID().slice(0, 8)}`;
  const items = campaignItems(options.items);
  const inputIds = items.map((item) => String(item.externalRefLineItemID));
  await options.beforeStart?.(campaignId);
  const started = Date.now();
  await stack.campaigns.startCampaign(
    {
      campaignId,
      customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
      accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
      campaign: 'chaos',
      options: {
        ...fastOptions,
        chunkSize: options.chunkSize,
        maxConcurrentOrders: 8,
        ...(options.campaignOptions ?? {}),
      },
    },
    { items },
  );
  let done = false;
  const during = options.during ? options.during(() => done, campaignId) : Promise.resolve();
  let result: CampaignResult | undefined;
  let error: string | undefined;
  try {
    result = await withTimeout(waitForResult(stack, campaignId), options.timeoutMs, `campaign ${campaignId}`);
  } catch (caught) {
    error = (caught as Error).message;
  } finally {
    done = true;
  }
  await during;
  const durationMs = Date.now() - started;
  const checked = await checkCampaignInvariants({
    simulator: stack.simulator,
    store: stack.store,
    campaignId,
    inputIds,
  });
  const expectStatus = options.expectStatus ?? 'completed';
  const invariants: InvariantResult[] = [
    {
      name: `campaign ${expectStatus}`,
      ok: result?.status === expectStatus,
      detail: result
        ? `status ${result.status}${result.statusReason ? ` (${result.statusReason})` : ''}`
        : `no result: ${error}`,
    },
    ...checked.results,
  ];
  return {
    campaignId,
    items: options.items,
    ...(result ? { result } : {}),
    ...(error ? { error } : {}),
    invariants,
    counts: checked.counts,
    durationMs,
  };
}

/** waitForCompletion, retried while the Temporal server is down (the dev-server scenario). */
async function waitForResult(stack: ChaosStack, campaignId: string): Promise<CampaignResult> {
  for (;;) {
    try {
      return await stack.campaigns.waitForCompletion(campaignId);
    } catch (error) {
      const name = (error as Error).name;
      if (name !== 'TemporalUnavailableError' && !/unavailable|connect|deadline|cancel/i.test(String(error)))
        throw error;
      await sleep(1000);
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function requestSummary(stack: ChaosStack): ScenarioResult['requests'] {
  const stats = stack.simulator.stats();
  const byRoute = Object.fromEntries(
    Object.entries(stats.requests).filter(([route]) => route.includes('/raas/v2')),
  );
  const posts = Object.values(stats.requests['POST /raas/v2/asyncOrders'] ?? {}).reduce((a, b) => a + b, 0);
  const total = Object.values(byRoute)
    .flatMap((outcomes) => Object.values(outcomes))
    .reduce((a, b) => a + b, 0);
  return { total, posts, byRoute };
}

function simulatorFaults(stack: ChaosStack): Record<string, number> {
  const { faults, webhooks } = stack.simulator.stats();
  const counts: Record<string, number> = {};
  if (faults.serverErrors) counts['5xx answers'] = faults.serverErrors;
  if (faults.rateLimited) counts['429 answers'] = faults.rateLimited;
  if (faults.droppedConnections) counts['connections reset'] = faults.droppedConnections;
  if (faults.responsesLost) counts['responses lost after processing'] = faults.responsesLost;
  if (faults.delayedRequests && stack.simulator.options.faults.latencySpikeRate > 0)
    counts['latency spikes'] = faults.delayedRequests;
  if (webhooks.dropped) counts['webhooks dropped'] = webhooks.dropped;
  if (webhooks.duplicated) counts['webhooks duplicated'] = webhooks.duplicated;
  const { delayMs, reorderWindowMs } = stack.simulator.options.faults.webhook;
  if (delayMs > 0) counts[`webhooks delayed ${delayMs} ms`] = webhooks.eventsPublished;
  if (reorderWindowMs > 0) counts['webhooks held and sent newest first'] = webhooks.eventsPublished;
  return counts;
}

function resultOf(
  scenario: { name: string; description: string },
  size: Size,
  stack: ChaosStack,
  run: CampaignRun,
  extra: { faults?: Record<string, number>; invariants?: InvariantResult[]; notes?: string[] } = {},
): ScenarioResult {
  const invariants = [...run.invariants, ...(extra.invariants ?? [])];
  const r = run.result;
  return {
    name: scenario.name,
    description: scenario.description,
    size,
    items: run.items,
    faultsInjected: { ...simulatorFaults(stack), ...(extra.faults ?? {}) },
    requests: requestSummary(stack),
    durationMs: run.durationMs,
    ...(r
      ? {
          campaign: {
            status: r.status,
            delivered: r.counts.delivered,
            givenUp: r.counts.givenUp,
            cancelled: r.counts.cancelled,
            orders: r.orders,
            rounds: r.rounds,
          },
        }
      : {}),
    invariants,
    ok: invariants.every((invariant) => invariant.ok),
    notes: extra.notes ?? [],
  };
}

/** One stack per scenario, always closed. */
async function withStack<T>(options: ChaosStackOptions, body: (stack: ChaosStack) => Promise<T>): Promise<T> {
  const stack = await startChaosStack(options);
  try {
    return await body(stack);
  } finally {
    await stack.close();
  }
}

/** A scenario that runs one campaign under simulator faults set before it starts. */
function faultScenario(definition: {
  name: string;
  description: string;
  items: Record<Size, number>;
  simulator: SimulatorOptionsPatch;
  stack?: Omit<ChaosStackOptions, 'simulator'>;
  campaignOptions?: CampaignOptionsInput;
  check?: (stack: ChaosStack) => {
    invariants?: InvariantResult[];
    notes?: string[];
    faults?: Record<string, number>;
  };
}): Scenario {
  return {
    name: definition.name,
    description: definition.description,
    run: (size, log) =>
      withStack({ ...(definition.stack ?? {}), simulator: definition.simulator }, async (stack) => {
        await stack.startWorker();
        const items = definition.items[size];
        log(`${definition.name}: ${items} items`);
        const run = await runCampaign(stack, {
          items,
          chunkSize: chunkSizeFor(items),
          ...(definition.campaignOptions ? { campaignOptions: definition.campaignOptions } : {}),
          timeoutMs: size === 'full' ? 30 * 60_000 : 4 * 60_000,
        });
        return resultOf(definition, size, stack, run, definition.check?.(stack) ?? {});
      }),
  };
}

function chunkSizeFor(items: number): number {
  return items >= 5000 ? 500 : items >= 1000 ? 100 : 25;
}

// ---------------------------------------------------------------------------------------------------

const workerKill: Scenario = {
  name: 'worker-kill',
  description: 'worker process SIGKILLed at random moments and restarted each time',
  run: (size, log) =>
    withStack(
      // Tango takes its time (items/s), so the campaign is long enough for every kill to land mid-run.
      { simulator: { throughput: size === 'full' ? 150 : 30 } },
      async (stack) => {
        const kills = size === 'full' ? 20 : 1;
        const items = size === 'full' ? 20_000 : 120;
        const random = seededRandom(size === 'full' ? 20 : 1);
        await stack.startWorker();
        let killed = 0;
        const killTimes: number[] = [];
        const run = await runCampaign(stack, {
          items,
          chunkSize: chunkSizeFor(items),
          timeoutMs: size === 'full' ? 60 * 60_000 : 5 * 60_000,
          during: async (done) => {
            while (killed < kills && !done()) {
              // A random moment: 1-9 s after the (re)started worker began taking tasks.
              await sleep(size === 'full' ? 1000 + random() * 8000 : 1000 + random() * 1000);
              if (done()) break;
              await stack.killWorker();
              killed += 1;
              killTimes.push(Date.now());
              log(`worker-kill: kill ${killed}/${kills}`);
              await stack.startWorker();
            }
          },
        });
        const notes: string[] = [];
        if (killed < kills) notes.push(`only ${killed} of ${kills} kills landed before the campaign ended`);
        return resultOf(workerKill, size, stack, run, {
          faults: { 'worker SIGKILLs': killed, 'worker starts': stack.workerStarts() },
          invariants: [
            {
              name: `at least ${kills} kills mid-campaign`,
              ok: killed >= kills,
              detail: `${killed} SIGKILLs while the campaign ran`,
            },
          ],
          notes,
        });
      },
    ),
};

const temporalRestart: Scenario = {
  name: 'temporal-restart',
  description: 'Temporal dev server SIGKILLed and restarted on the same database file mid-campaign',
  run: (size, log) =>
    withStack({ simulator: { throughput: size === 'full' ? 200 : 60 } }, async (stack) => {
      await stack.startWorker();
      const restarts = size === 'full' ? 3 : 1;
      let done = 0;
      const items = size === 'full' ? 5000 : 150;
      const run = await runCampaign(stack, {
        items,
        chunkSize: chunkSizeFor(items),
        timeoutMs: size === 'full' ? 30 * 60_000 : 5 * 60_000,
        during: async (finishedYet) => {
          while (done < restarts && !finishedYet()) {
            await sleep(size === 'full' ? 6000 : 2000);
            if (finishedYet()) break;
            await stack.restartTemporal({ downMs: 2000 });
            done += 1;
            log(`temporal-restart: restart ${done}/${restarts}`);
          }
        },
      });
      return resultOf(temporalRestart, size, stack, run, {
        faults: {
          'dev server SIGKILL + restart': done,
          'webhooks answered 503': stack.receiver?.stats()['temporal-unavailable'] ?? 0,
        },
        invariants: [{ name: 'restarted mid-campaign', ok: done >= restarts, detail: `${done} restart(s)` }],
      });
    }),
};

const serverErrors = faultScenario({
  name: 'tango-5xx',
  description: '20% of Tango requests answered 500/503',
  items: { full: 5000, quick: 150 },
  simulator: { faults: { serverErrorRate: 0.2 } },
});

const rateLimit: Scenario = {
  name: 'tango-429',
  description: 'bursts of 429 with Retry-After; no retry before the stated time',
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      await stack.startWorker();
      const items = size === 'full' ? 3000 : 150;
      let bursts = 0;
      const run = await runCampaign(stack, {
        items,
        chunkSize: chunkSizeFor(items),
        timeoutMs: size === 'full' ? 30 * 60_000 : 5 * 60_000,
        during: async (done) => {
          // Bursts: 3 s at 2 requests/s with Retry-After 2 s, then 3 s without a limit.
          while (!done()) {
            stack.simulator.configure({ faults: { rateLimitTps: 2, retryAfterSeconds: 2 } });
            bursts += 1;
            await sleep(3000);
            stack.simulator.configure({ faults: { rateLimitTps: 0 } });
            await sleep(3000);
          }
          log(`tango-429: ${bursts} bursts`);
        },
      });
      const check = retryAfterViolations(stack.proxy.entries());
      return resultOf(rateLimit, size, stack, run, {
        faults: { '429 bursts': bursts },
        invariants: [
          {
            name: 'no retry before Retry-After',
            ok: check.violations.length === 0 && check.checked > 0,
            detail:
              check.violations.length === 0
                ? `${check.rateLimited} answers 429, ${check.checked} retries checked, none early`
                : `${check.violations.length} early: ${JSON.stringify(check.violations.slice(0, 3))}`,
          },
        ],
      });
    }),
};

const latency = faultScenario({
  name: 'tango-latency',
  description:
    '15% of Tango requests delayed 3 s, past the worker 2.5 s client timeout: the call times out, then Tango applies it',
  items: { full: 3000, quick: 150 },
  simulator: { faults: { latencySpikeRate: 0.15, latencySpikeMs: 3000 } },
  stack: { workerEnv: { TANGO_TIMEOUT_MS: '2500' } },
});

const resets = faultScenario({
  name: 'tango-resets',
  description: '10% of Tango connections reset before the request is applied',
  items: { full: 5000, quick: 150 },
  simulator: { faults: { dropConnectionRate: 0.1 } },
});

const responseLost = faultScenario({
  name: 'tango-response-lost',
  description:
    '30% of POST/PATCH applied by Tango, then the connection destroyed (the retry must find the order)',
  items: { full: 5000, quick: 150 },
  simulator: { faults: { responseLostRate: 0.3 } },
  check: (stack) => ({ invariants: [lostPostsResolved(stack)] }),
});

/**
 * Per order: a POST whose answer never came back must be followed by a POST of the same
 * externalRefID that Tango answered 200 (the existing order), never by a second order.
 */
function lostPostsResolved(stack: ChaosStack): InvariantResult {
  const posts = stack.simulator.stats().requests['POST /raas/v2/asyncOrders'] ?? {};
  const byRef = new Map<string, number[]>();
  for (const entry of stack.proxy.entries())
    if (entry.method === 'POST' && entry.externalRefID)
      byRef.set(entry.externalRefID, [...(byRef.get(entry.externalRefID) ?? []), entry.status]);
  const lostOrders = [...byRef].filter(([, statuses]) => statuses.includes(0));
  const unresolved = lostOrders.filter(([, statuses]) => statuses.at(-1) !== 200).map(([ref]) => ref);
  return {
    name: 'each lost POST retried with the same externalRefID, found as 200',
    ok: lostOrders.length > 0 && unresolved.length === 0,
    detail: `${lostOrders.length} orders lost a POST answer; ${unresolved.length} not ended by a 200 (${unresolved.join(', ')}); POST outcomes ${JSON.stringify(posts)}`,
  };
}

const getLag = faultScenario({
  name: 'get-lag',
  description:
    "GET answers 404 for 4 s after each order's creation, and 30% of POST answers are lost: the retry and the settling must wait for the order to show",
  items: { full: 3000, quick: 150 },
  simulator: { faults: { getLagMs: 4000, responseLostRate: 0.3 } },
  check: (stack) => {
    const gets =
      stack.simulator.stats().requests[
        'GET /raas/v2/asyncOrders/customers/{c}/accounts/{a}/{externalRefID}'
      ] ?? {};
    return {
      faults: { 'GETs answered 404 (lag)': gets['404'] ?? 0 },
      invariants: [
        lostPostsResolved(stack),
        {
          name: 'GET lagged the POST',
          ok: (gets['404'] ?? 0) > 0,
          detail: `GET outcomes ${JSON.stringify(gets)}`,
        },
      ],
    };
  },
});

/** The report rows of a campaign (empty when it wrote none). */
async function reportRows(
  stack: ChaosStack,
  campaignId: string,
): Promise<{ externalRefLineItemID: string; state: string; reason: string; externalRefID: string }[]> {
  try {
    const report = (await getJson(stack.store, reportJsonKey(campaignId))) as {
      items?: { externalRefLineItemID: string; state: string; reason: string; externalRefID: string }[];
    };
    return report.items ?? [];
  } catch {
    return [];
  }
}

/** The chunk a campaignItems() id belongs to. */
function chunkOf(id: string, chunkSize: number): number {
  return Math.floor(Number(id.slice(id.lastIndexOf('-') + 1)) / chunkSize);
}

/** The Temporal status of each chunk's order workflow; undefined for a chunk never started. */
async function orderStatuses(
  stack: ChaosStack,
  campaignId: string,
  chunks: number,
): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = [];
  for (let chunk = 0; chunk < chunks; chunk += 1) {
    const workflowId = orderWorkflowId(orderExternalRefId(campaignRef(campaignId), chunk, 0));
    out.push(
      await stack.campaigns.client.workflow
        .getHandle(workflowId)
        .describe()
        .then(
          (description) => description.status.name,
          () => undefined,
        ),
    );
  }
  return out;
}

const cancelMidCampaign: Scenario = {
  name: 'cancel-mid-campaign',
  description:
    'campaign cancelled (Temporal cancel) once two orders are with a slow Tango: those settle, the rest never start',
  run: (size, log) =>
    withStack(
      { simulator: { processingDelayMs: 500, throughput: size === 'full' ? 300 : 100 } },
      async (stack) => {
        await stack.startWorker();
        const items = size === 'full' ? 5000 : 1000;
        const chunkSize = size === 'full' ? 500 : 100;
        const chunks = Math.ceil(items / chunkSize);
        let cancelledAt = -1;
        const run = await runCampaign(stack, {
          items,
          chunkSize,
          campaignOptions: { maxConcurrentOrders: 3 },
          expectStatus: 'cancelled',
          timeoutMs: size === 'full' ? 10 * 60_000 : 4 * 60_000,
          during: async (done, campaignId) => {
            while (!done() && stack.simulator.stats().orders.count < 2) await sleep(50);
            if (done()) return;
            await stack.campaigns.cancelCampaign(campaignId);
            cancelledAt = stack.simulator.stats().orders.count;
            log(`cancel-mid-campaign: cancelled with ${cancelledAt} orders at Tango`);
          },
        });
        const statuses = await orderStatuses(stack, run.campaignId, chunks);
        const started = statuses.filter((status) => status !== undefined);
        const rows = await reportRows(stack, run.campaignId);
        const ref = campaignRef(run.campaignId);
        const atTango = new Set(stack.simulator.ledger.entries().map((entry) => entry.externalRefID));
        const posted = new Set(
          stack.proxy
            .entries()
            .filter((entry) => entry.method === 'POST' && entry.externalRefID)
            .map((entry) => entry.externalRefID!),
        );
        const wrong: string[] = [];
        for (const row of rows) {
          const chunk = chunkOf(row.externalRefLineItemID, chunkSize);
          const roundZero = orderExternalRefId(ref, chunk, 0);
          const withTango = atTango.has(roundZero) || posted.has(roundZero);
          if (withTango && row.state === 'cancelled')
            wrong.push(`${row.externalRefLineItemID} cancelled in a sent order`);
          if (!withTango && row.state !== 'cancelled')
            wrong.push(`${row.externalRefLineItemID} ${row.state} in an order never sent`);
        }
        return resultOf(cancelMidCampaign, size, stack, run, {
          faults: { 'Temporal cancel mid-campaign': cancelledAt >= 0 ? 1 : 0 },
          invariants: [
            {
              name: 'cancelled while orders were with Tango, before all started',
              ok: cancelledAt >= 2 && started.length < chunks,
              detail: `${cancelledAt} orders at Tango at the cancel; ${started.length} of ${chunks} order workflows started`,
            },
            {
              name: 'every order workflow completed',
              ok: started.length > 0 && started.every((status) => status === 'COMPLETED'),
              detail: `order workflow statuses ${JSON.stringify(countValues(started.map(String)))}`,
            },
            {
              name: 'sent orders settled, the others cancelled',
              ok: rows.length === items && wrong.length === 0,
              detail:
                wrong.length === 0
                  ? `${rows.length} rows: items of orders sent to Tango settled by its record, the others cancelled`
                  : wrong.slice(0, 5).join('; '),
            },
          ],
        });
      },
    ),
};

const collision: Scenario = {
  name: 'collision',
  description:
    "another client's order already holds chunk 0's externalRefID (other items): chunk 0 blocks, nothing inferred or resent; the campaign is cancelled at the end",
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      await stack.startWorker();
      const items = size === 'full' ? 3000 : 150;
      const chunkSize = chunkSizeFor(items);
      const chunks = Math.ceil(items / chunkSize);
      let ref0 = '';
      let blocked: { phase: string; blockedReason?: string } | undefined;
      let attribute: unknown;
      let postsWhileBlocked = -1;
      const postsTo = (externalRefID: string) =>
        stack.proxy
          .entries()
          .filter((entry) => entry.method === 'POST' && entry.externalRefID === externalRefID).length;
      const run = await runCampaign(stack, {
        items,
        chunkSize,
        expectStatus: 'cancelled',
        timeoutMs: size === 'full' ? 10 * 60_000 : 4 * 60_000,
        beforeStart: (campaignId) => {
          ref0 = orderExternalRefId(campaignRef(campaignId), 0, 0);
          stack.simulator.preloadOrder({
            customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
            accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
            externalRefID: ref0,
            lineItems: campaignItems(chunkSize, 'other'),
          });
        },
        during: async (done, campaignId) => {
          const order = stack.campaigns.client.workflow.getHandle(orderWorkflowId(ref0));
          // Every other order finishes; chunk 0 stays blocked.
          while (!done()) {
            const progress = await stack.campaigns.getProgress(campaignId).catch(() => undefined);
            const own = await order.query(orderProgressQuery).catch(() => undefined);
            if (progress?.orders.finished === chunks - 1 && own?.phase === 'blocked') {
              blocked = own;
              break;
            }
            await sleep(500);
          }
          if (done()) return;
          attribute = (await order.describe()).typedSearchAttributes.get(searchAttributes.orderBlocked);
          // A while longer: nothing is resent for it meanwhile.
          await sleep(3000);
          postsWhileBlocked = postsTo(ref0);
          log(`collision: chunk 0 blocked (${attribute}); cancelling`);
          await stack.campaigns.cancelCampaign(campaignId);
        },
      });
      const rows = await reportRows(stack, run.campaignId);
      const chunk0 = rows.filter((row) => chunkOf(row.externalRefLineItemID, chunkSize) === 0);
      const chunk0Ids = new Set(chunk0.map((row) => row.externalRefLineItemID));
      const inLedger = stack.simulator.ledger
        .entries()
        .filter((entry) => chunk0Ids.has(entry.externalRefLineItemID));
      const badRows = chunk0.filter(
        (row) =>
          row.state !== 'given-up' ||
          !/fate unknown/.test(row.reason) ||
          !/not this campaign's/.test(row.reason),
      );
      const others = rows.filter((row) => chunkOf(row.externalRefLineItemID, chunkSize) !== 0);
      const statuses = await orderStatuses(stack, run.campaignId, chunks);
      return resultOf(collision, size, stack, run, {
        faults: { 'orders preloaded under our externalRefID': 1 },
        invariants: [
          {
            name: 'chunk 0 blocked as a collision while the others finished',
            ok:
              blocked?.phase === 'blocked' &&
              /not this campaign's/.test(blocked.blockedReason ?? '') &&
              attribute === 'OrderCollision',
            detail: `phase ${blocked?.phase}, OrderBlocked ${String(attribute)}: ${blocked?.blockedReason ?? '-'}`,
          },
          {
            name: 'chunk 0 POSTed once, never resent',
            ok: postsWhileBlocked === 1 && postsTo(ref0) === 1,
            detail: `${postsWhileBlocked} POST(s) of ${ref0} while blocked, ${postsTo(ref0)} in all`,
          },
          {
            name: "chunk 0's items never delivered, given up as fate unknown naming the collision",
            ok: chunk0.length === chunkSize && inLedger.length === 0 && badRows.length === 0,
            detail:
              `${chunk0.length} rows, ${inLedger.length} in the ledger` +
              (badRows.length
                ? `; not given up for the collision: ${badRows
                    .slice(0, 3)
                    .map((r) => `${r.externalRefLineItemID} ${r.state} (${r.reason})`)
                    .join('; ')}`
                : '') +
              (chunk0[0] ? `; reason: ${chunk0[0].reason}` : ''),
          },
          {
            name: 'the other chunks settled as usual, every order workflow completed',
            ok:
              others.every((row) => row.state !== 'cancelled') &&
              statuses.every((status) => status === 'COMPLETED'),
            detail: `${others.length} other rows ${JSON.stringify(countValues(others.map((row) => row.state)))}; order workflows ${JSON.stringify(countValues(statuses.map(String)))}`,
          },
        ],
      });
    }),
};

const webhookOptions: CampaignOptionsInput = { pollInitial: '2s', pollMax: '3s' };

const webhooksLost = faultScenario({
  name: 'webhooks-lost',
  description: 'every webhook dropped; polling alone completes the campaign',
  items: { full: 3000, quick: 150 },
  simulator: { faults: { webhook: { dropRate: 1 } } },
  campaignOptions: webhookOptions,
  check: (stack) => ({
    invariants: [
      {
        name: 'no webhook reached the receiver',
        ok: (stack.receiver?.stats().signalled ?? 0) === 0,
        detail: `receiver outcomes ${JSON.stringify(nonZero(stack.receiver?.stats()))}`,
      },
    ],
  }),
});

const webhooksDuplicated = faultScenario({
  name: 'webhooks-duplicated',
  description: 'every webhook delivered twice',
  items: { full: 3000, quick: 150 },
  simulator: { faults: { webhook: { duplicateRate: 1 } } },
  campaignOptions: { pollInitial: '30s', pollMax: '1m' },
  check: (stack) => ({
    invariants: [
      {
        name: 'duplicates recognised by the receiver',
        ok: (stack.receiver?.stats().duplicate ?? 0) > 0,
        detail: `receiver outcomes ${JSON.stringify(nonZero(stack.receiver?.stats()))}`,
      },
    ],
  }),
});

const webhooksReordered = faultScenario({
  name: 'webhooks-reordered',
  description: 'webhooks held 1 s and sent newest first (RETRYING events on)',
  items: { full: 3000, quick: 150 },
  simulator: { webhooks: { retryingEvents: true }, faults: { webhook: { reorderWindowMs: 1000 } } },
  campaignOptions: { pollInitial: '30s', pollMax: '1m' },
});

const webhooksDelayed = faultScenario({
  name: 'webhooks-delayed',
  description: 'webhooks delayed 5 s, past the 1 s poll: they arrive for settled orders',
  items: { full: 3000, quick: 150 },
  simulator: { faults: { webhook: { delayMs: 5000 } } },
  campaignOptions: { pollInitial: '1s', pollMax: '1s' },
});

const webhooksForged: Scenario = {
  name: 'webhooks-forged',
  description:
    'forged and stale signed webhooks posted to the receiver during the run: 401, nothing signalled',
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      await stack.startWorker();
      const items = size === 'full' ? 3000 : 150;
      const answers: number[] = [];
      let forged = 0;
      let stale = 0;
      const secret = LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret;
      const post = async (body: string, signature: string) => {
        const response = await fetch(stack.receiver!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Signed-Payload': signature },
          body,
        });
        answers.push(response.status);
      };
      const run = await runCampaign(stack, {
        items,
        chunkSize: chunkSizeFor(items),
        // Long polls: a forged "final" notice, if it got through, would be what woke the order.
        campaignOptions: { pollInitial: '30s', pollMax: '1m' },
        timeoutMs: size === 'full' ? 30 * 60_000 : 5 * 60_000,
        during: async (done) => {
          let n = 0;
          while (!done()) {
            const refs = [
              ...new Set(
                stack.proxy
                  .entries()
                  .map((entry) => entry.externalRefID)
                  .filter(Boolean),
              ),
            ];
            const externalRefID = refs[n % Math.max(refs.length, 1)] ?? 'unknown-order';
            const event = (occurredAt: Date) =>
              JSON.stringify({
                eventId: randomUUID(),
                revision: 99,
                category: 'ORDER',
                eventType: 'AsyncOrderStatus',
                eventOccurredAt: occurredAt.toISOString(),
                eventData: {
                  externalRefID,
                  status: 'SUCCESSFUL',
                  totalLineItems: 1,
                  failedLineItems: 0,
                  successfulLineItems: 1,
                  referenceOrderId: 'forged',
                  accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
                  customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
                },
              });
            const forgedBody = event(new Date());
            await post(
              forgedBody,
              signHmacPayload(forgedBody, Buffer.from('not the secret').toString('base64')),
            );
            forged += 1;
            await post(event(new Date()), 'c2lnbmF0dXJl');
            forged += 1;
            const staleBody = event(new Date(Date.now() - 3600_000));
            await post(staleBody, signHmacPayload(staleBody, secret));
            stale += 1;
            n += 1;
            await sleep(200);
          }
          log(`webhooks-forged: ${forged} forged, ${stale} stale`);
        },
      });
      const stats = stack.receiver!.stats();
      return resultOf(webhooksForged, size, stack, run, {
        faults: { 'forged signatures': forged, 'stale signed events': stale },
        invariants: [
          {
            name: 'forged and stale answered 401, none signalled',
            ok:
              answers.every((status) => status === 401) &&
              stats['bad-signature'] === forged &&
              stats.stale === stale,
            detail: `answers ${JSON.stringify(countValues(answers))}; receiver outcomes ${JSON.stringify(nonZero(stats))}`,
          },
        ],
      });
    }),
};

const webhooksFlood: Scenario = {
  name: 'webhooks-flood',
  description:
    'a flood of forged (bad signature), replayed (validly signed, duplicate) and oversized webhooks during the run: nothing forged signalled, Tango GETs per order bounded',
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      await stack.startWorker();
      const items = size === 'full' ? 3000 : 150;
      const secret = LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret;
      const answers: Record<'forged' | 'replayed' | 'oversized', number[]> = {
        forged: [],
        replayed: [],
        oversized: [],
      };
      const post = async (kind: keyof typeof answers, body: string, signature: string) => {
        const response = await fetch(stack.receiver!.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-Signed-Payload': signature },
          body,
        });
        await response.arrayBuffer();
        answers[kind].push(response.status);
      };
      const event = (externalRefID: string, overrides: Record<string, unknown> = {}) =>
        JSON.stringify({
          eventId: randomUUID(),
          revision: 99,
          category: 'ORDER',
          eventType: 'AsyncOrderStatus',
          eventOccurredAt: new Date().toISOString(),
          eventData: {
            externalRefID,
            status: 'SUCCESSFUL',
            totalLineItems: 1,
            failedLineItems: 0,
            successfulLineItems: 1,
            accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
            customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
          },
          ...overrides,
        });
      const run = await runCampaign(stack, {
        items,
        chunkSize: chunkSizeFor(items),
        // Long polls: every extra GET the flood causes shows up against a small normal count.
        campaignOptions: { pollInitial: '30s', pollMax: '1m' },
        timeoutMs: size === 'full' ? 30 * 60_000 : 5 * 60_000,
        during: async (done) => {
          const replayedBodies: string[] = [];
          while (!done()) {
            const refs = [
              ...new Set(
                stack.proxy
                  .entries()
                  .map((entry) => entry.externalRefID)
                  .filter((ref): ref is string => Boolean(ref)),
              ),
            ];
            const burst: Promise<void>[] = [];
            for (const ref of refs.slice(-16)) {
              // Forged: a final status under a wrong key, and under no valid signature at all.
              const forged = event(ref);
              burst.push(
                post('forged', forged, signHmacPayload(forged, Buffer.from('guess').toString('base64'))),
              );
              burst.push(post('forged', event(ref, { revision: 100 }), 'c2lnbmF0dXJl'));
              // Replayed: validly signed finals under fresh eventIds, and byte-for-byte copies.
              const replay = event(ref, { revision: Math.floor(Math.random() * 1e6) });
              replayedBodies.push(replay);
              burst.push(post('replayed', replay, signHmacPayload(replay, secret)));
              const copy = replayedBodies[Math.floor(Math.random() * replayedBodies.length)]!;
              burst.push(post('replayed', copy, signHmacPayload(copy, secret)));
              // Oversized: each field past its limit, validly signed, and a body past the raw limit.
              for (const body of [
                event(`${ref}-${'x'.repeat(5000)}`),
                event(ref, { eventId: 'e'.repeat(10_000) }),
                event(ref, { eventData: { externalRefID: ref, status: 'S'.repeat(1000) } }),
                event(ref, { padding: 'p'.repeat(64 * 1024) }),
              ]) {
                burst.push(post('oversized', body, signHmacPayload(body, secret)));
              }
            }
            await Promise.all(burst);
            if (replayedBodies.length > 1000) replayedBodies.splice(0, 500);
            await sleep(refs.length === 0 ? 50 : 250);
          }
          log(
            `webhooks-flood: ${answers.forged.length} forged, ${answers.replayed.length} replayed, ${answers.oversized.length} oversized`,
          );
        },
      });
      const stats = stack.receiver!.stats();
      // Tango GETs per order against what its polls alone could make in its lifetime (a poll at
      // most every 30 s, the first and a confirming one), plus one per minute for the webhooks.
      const byRef = new Map<string, { gets: number; first: number; last: number }>();
      for (const entry of stack.proxy.entries()) {
        if (!entry.externalRefID) continue;
        const seen = byRef.get(entry.externalRefID) ?? { gets: 0, first: entry.at, last: entry.at };
        if (entry.method === 'GET') seen.gets += 1;
        seen.first = Math.min(seen.first, entry.at);
        seen.last = Math.max(seen.last, entry.doneAt);
        byRef.set(entry.externalRefID, seen);
      }
      const overBudget: string[] = [];
      let maxGets = 0;
      let totalGets = 0;
      for (const [ref, seen] of byRef) {
        const lifeMs = seen.last - seen.first;
        const normal = 2 + Math.floor(lifeMs / 30_000);
        const allowed = normal + Math.ceil(lifeMs / 60_000) + 1;
        maxGets = Math.max(maxGets, seen.gets);
        totalGets += seen.gets;
        if (seen.gets > allowed) overBudget.push(`${ref}: ${seen.gets} GETs > ${allowed}`);
      }
      const forgedOk =
        answers.forged.length > 0 &&
        answers.forged.every((status) => status === 401) &&
        stats['bad-signature'] === answers.forged.length;
      const oversizedOk =
        answers.oversized.length > 0 &&
        answers.oversized.every((status) => status === 400 || status === 413) &&
        stats.invalid + stats['too-large'] === answers.oversized.length;
      return resultOf(webhooksFlood, size, stack, run, {
        faults: {
          'forged webhooks': answers.forged.length,
          'replayed signed webhooks': answers.replayed.length,
          'oversized webhooks': answers.oversized.length,
        },
        invariants: [
          {
            name: 'nothing forged signalled: every forged event answered 401',
            ok: forgedOk,
            detail: `forged answers ${JSON.stringify(countValues(answers.forged))}; receiver outcomes ${JSON.stringify(nonZero(stats))}`,
          },
          {
            name: 'every oversized event refused (400/413) before signalling',
            ok: oversizedOk,
            detail: `oversized answers ${JSON.stringify(countValues(answers.oversized))}`,
          },
          {
            name: 'replays acknowledged (200) as duplicates or throttled, not resignalled',
            ok: answers.replayed.every((status) => status === 200) && stats.duplicate + stats.throttled > 0,
            detail: `replayed answers ${JSON.stringify(countValues(answers.replayed))}; duplicate ${stats.duplicate}, throttled ${stats.throttled}, signalled ${stats.signalled}`,
          },
          {
            name: 'Tango GETs per order <= its polls + 1 per minute of its life',
            ok: overBudget.length === 0 && byRef.size > 0,
            detail:
              overBudget.length > 0
                ? overBudget.slice(0, 5).join('; ')
                : `${byRef.size} orders, ${totalGets} GETs, at most ${maxGets} for one order`,
          },
        ],
      });
    }),
};

function nonZero(record: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(record ?? {}).filter(([, value]) => value > 0));
}

function countValues(values: (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

// ---------------------------------------------------------------------------------------------------

const fixturesDir = path.resolve(import.meta.dirname, '..', 'test', 'fixtures', 'inputs', 'bad');

interface Expected {
  row: number;
  field: string | null;
  message: string;
}

/** Malformed inputs the fixture corpus lacks, generated at run time (the huge one is not committed). */
async function generatedBadInputs(dir: string, size: Size): Promise<{ file: string; expected: Expected }[]> {
  const header = 'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod\n';
  const out: { file: string; expected: Expected }[] = [];
  // Huge: many valid rows, one bad one near the end; the error must still name that row and field.
  const rows = size === 'full' ? 400_000 : 20_000;
  const huge = path.join(dir, 'huge.csv');
  const stream = createWriteStream(huge);
  stream.write(header);
  for (let index = 0; index < rows; index += 1) {
    const amount = index === rows - 3 ? 'ten' : '10';
    if (!stream.write(`h-${index},Ann,Lee,h${index}@example.test,U000001,${amount},EMAIL\n`))
      await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  stream.end();
  await finished(stream);
  out.push({ file: huge, expected: { row: rows - 1, field: 'amount', message: 'is not a number' } });
  const small: [string, string, Expected][] = [
    [
      'amount-not-numeric-json.json',
      '[{"externalRefLineItemID":"j1","utid":"U000001","amount":true,"deliveryMethod":"NONE"}]',
      { row: 1, field: 'amount', message: '' },
    ],
    [
      'id-wrong-type.json',
      '[{"externalRefLineItemID":42,"utid":"U000001","amount":5,"deliveryMethod":"NONE"}]',
      { row: 1, field: 'externalRefLineItemID', message: '' },
    ],
  ];
  for (const [name, text, expected] of small) {
    const file = path.join(dir, name);
    const s = createWriteStream(file);
    s.end(text);
    await finished(s);
    out.push({ file, expected });
  }
  return out;
}

const badInput: Scenario = {
  name: 'bad-input',
  description: 'malformed files and rows: a clear error naming file, row and field; nothing submitted',
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      // A live worker: had a bad campaign started, it would have posted orders.
      await stack.startWorker();
      const started = Date.now();
      const expected = JSON.parse(await readFile(path.join(fixturesDir, 'expected.json'), 'utf8')) as Record<
        string,
        Expected
      >;
      const cases = [
        ...(await readdir(fixturesDir))
          .filter((name) => name !== 'expected.json')
          .sort()
          .map((name) => ({ file: path.join(fixturesDir, name), expected: expected[name] })),
        ...(await generatedBadInputs(stack.workDir, size)),
      ];
      const failures: string[] = [];
      let index = 0;
      for (const { file, expected: want } of cases) {
        index += 1;
        const campaignId = `bad-${index}`;
        let error: unknown;
        try {
          await stack.campaigns.startCampaign(
            {
              campaignId,
              customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
              accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
              options: fastOptions,
            },
            { items: itemsOf(file) },
          );
        } catch (caught) {
          error = caught;
        }
        const name = path.basename(file);
        if (!(error instanceof InputFileError)) {
          failures.push(
            `${name}: expected an InputFileError, got ${error ? String(error) : 'a started campaign'}`,
          );
          continue;
        }
        const first = error.problems[0];
        const text = error.message;
        if (!first || !text.includes(file)) failures.push(`${name}: the message does not name the file`);
        else if (want && first.row !== want.row)
          failures.push(`${name}: row ${first.row}, expected ${want.row} (${formatInputProblem(first)})`);
        else if (want?.field && first.field !== want.field)
          failures.push(
            `${name}: field ${first.field}, expected ${want.field} (${formatInputProblem(first)})`,
          );
        else if (want?.message && !new RegExp(want.message).test(first.message))
          failures.push(`${name}: message "${first.message}" does not match /${want.message}/`);
        else if (!/, (row|item) \d+/.test(text)) failures.push(`${name}: the message names no row`);
        const exists = await stack.campaigns.describeCampaign(campaignId).then(
          () => true,
          () => false,
        );
        if (exists) failures.push(`${name}: a workflow was started`);
      }
      log(`bad-input: ${cases.length} inputs checked`);
      await sleep(1000);
      const requests = requestSummary(stack);
      const invariants: InvariantResult[] = [
        {
          name: 'each input refused with file, row and field',
          ok: failures.length === 0,
          detail:
            failures.length === 0
              ? `${cases.length} inputs, every error names file and row (and the field where one is at fault)`
              : failures.join('; '),
        },
        {
          name: 'nothing submitted',
          ok: requests.posts === 0 && stack.simulator.ledger.size === 0,
          detail: `${requests.posts} POSTs, ${stack.simulator.ledger.size} ledger entries`,
        },
        { name: 'at least 30 malformed inputs', ok: cases.length >= 30, detail: `${cases.length} inputs` },
      ];
      return {
        name: badInput.name,
        description: badInput.description,
        size,
        items: cases.length,
        faultsInjected: { 'malformed inputs': cases.length },
        requests,
        durationMs: Date.now() - started,
        invariants,
        ok: invariants.every((invariant) => invariant.ok),
        notes: [],
      };
    }),
};

async function* itemsOf(file: string): AsyncIterable<unknown> {
  for await (const { item } of readLineItemsFile(file)) yield item;
}

const idReuse: Scenario = {
  name: 'id-reuse',
  description:
    'a finished campaign whose workflows are deleted (as retention would), its id started again with other items through the client and a raw Temporal start: refused, nothing sent',
  run: (size, log) =>
    withStack({ simulator: {} }, async (stack) => {
      await stack.startWorker();
      const items = size === 'full' ? 2000 : 100;
      const chunkSize = chunkSizeFor(items);
      const first = await runCampaign(stack, { items, chunkSize, timeoutMs: 5 * 60_000 });
      const { client } = stack.campaigns;
      const namespace = client.options.namespace;
      const workflowIds = [
        `campaign-${first.campaignId}`,
        ...Array.from({ length: Math.ceil(items / chunkSize) }, (_, chunk) =>
          orderWorkflowId(orderExternalRefId(campaignRef(first.campaignId), chunk, 0)),
        ),
      ];
      for (const workflowId of workflowIds)
        await client.workflowService.deleteWorkflowExecution({
          namespace,
          workflowExecution: { workflowId },
        });
      // Deletion is asynchronous: wait until the campaign workflow is gone, as after retention.
      const gone = Date.now() + 120_000;
      while (Date.now() < gone) {
        const exists = await client.workflow
          .getHandle(`campaign-${first.campaignId}`)
          .describe()
          .then(
            () => true,
            () => false,
          );
        if (!exists) break;
        await sleep(1000);
      }
      const postsBefore = requestSummary(stack).posts;
      const ledgerBefore = stack.simulator.ledger.size;
      const others = campaignItems(items, 'again');
      const startedAgain = Date.now();
      const viaClient = await stack.campaigns
        .startCampaign(
          {
            campaignId: first.campaignId,
            customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
            accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
            options: { ...fastOptions, chunkSize },
          },
          { items: others },
        )
        .then(
          () => 'started',
          (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`,
        );
      const raw = await client.workflow.start('campaignWorkflow', {
        taskQueue: 'chaos',
        workflowId: `campaign-${first.campaignId}`,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        args: [
          {
            campaignId: first.campaignId,
            customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
            accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
            items: { inline: others.slice(0, 50) },
            options: { ...fastOptions, chunkSize },
          },
        ],
      });
      const rawOutcome = await withTimeout(
        raw.result().then(
          () => 'completed',
          (error: unknown) => {
            // WorkflowFailedError -> ActivityFailure -> ApplicationFailure: the innermost names it.
            let cause = error as { cause?: unknown; type?: string; message?: string };
            while (cause.cause) cause = cause.cause as typeof cause;
            return `${cause.type ?? 'failed'}: ${cause.message ?? String(error)}`;
          },
        ),
        60_000,
        'the raw start',
      ).catch((error: unknown) => String(error));
      const refusedIn = Date.now() - startedAgain;
      await sleep(2000);
      const requests = requestSummary(stack);
      log(`id-reuse: client: ${viaClient.slice(0, 80)}; raw: ${rawOutcome.slice(0, 80)}`);
      const invariants: InvariantResult[] = [
        ...first.invariants.map((invariant) => ({ ...invariant, name: `first run: ${invariant.name}` })),
        {
          name: 'the client refuses the used id, naming the earlier campaign',
          ok: /^CampaignIdInUseError: .*earlier campaign/.test(viaClient),
          detail: viaClient.slice(0, 200),
        },
        {
          name: 'a raw Temporal start fails at once with CampaignIdInUse',
          ok: /^CampaignIdInUse: .*earlier campaign/.test(rawOutcome) && refusedIn < 60_000,
          detail: `${rawOutcome.slice(0, 200)} (within ${Math.round(refusedIn / 1000)} s of the client's try)`,
        },
        {
          name: 'nothing sent for the second campaign',
          ok: requests.posts === postsBefore && stack.simulator.ledger.size === ledgerBefore,
          detail: `${requests.posts - postsBefore} new POSTs, ${stack.simulator.ledger.size - ledgerBefore} new ledger entries`,
        },
      ];
      return {
        name: idReuse.name,
        description: idReuse.description,
        size,
        items,
        faultsInjected: { 'workflows deleted': workflowIds.length, 'starts with a used id': 2 },
        requests,
        durationMs: first.durationMs + (Date.now() - startedAgain),
        invariants,
        ok: invariants.every((invariant) => invariant.ok),
        notes: [],
      };
    }),
};

export const scenarios: Scenario[] = [
  workerKill,
  temporalRestart,
  serverErrors,
  rateLimit,
  latency,
  resets,
  responseLost,
  getLag,
  cancelMidCampaign,
  collision,
  idReuse,
  webhooksLost,
  webhooksDuplicated,
  webhooksReordered,
  webhooksDelayed,
  webhooksForged,
  webhooksFlood,
  badInput,
];

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
import { InputFileError, formatInputProblem, readLineItemsFile } from '../src/campaign/input-file.ts';
import { LOCAL_SIMULATOR_DEFAULTS } from '../src/tango/config.ts';
import { signHmacPayload } from '../src/tango/webhook-signature.ts';
import type { SimulatorOptionsPatch } from '../src/simulator/index.ts';
import { checkCampaignInvariants, type InvariantResult } from './invariants.ts';
import { retryAfterViolations } from './request-log.ts';
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
    during?: (done: () => boolean) => Promise<void>;
    timeoutMs: number;
  },
): Promise<CampaignRun> {
  const campaignId = `chaos-${randomUUID().slice(0, 8)}`;
  const items = campaignItems(options.items);
  const inputIds = items.map((item) => String(item.externalRefLineItemID));
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
  const during = options.during ? options.during(() => done) : Promise.resolve();
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
  const invariants: InvariantResult[] = [
    {
      name: 'campaign completed',
      ok: result?.status === 'completed',
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
  check: (stack) => {
    const posts = stack.simulator.stats().requests['POST /raas/v2/asyncOrders'] ?? {};
    // Per order: a POST whose answer never came back must be followed by a POST of the same
    // externalRefID that Tango answered 200 (the existing order), never by a second order.
    const byRef = new Map<string, number[]>();
    for (const entry of stack.proxy.entries())
      if (entry.method === 'POST' && entry.externalRefID)
        byRef.set(entry.externalRefID, [...(byRef.get(entry.externalRefID) ?? []), entry.status]);
    const lostOrders = [...byRef].filter(([, statuses]) => statuses.includes(0));
    const unresolved = lostOrders.filter(([, statuses]) => statuses.at(-1) !== 200).map(([ref]) => ref);
    return {
      invariants: [
        {
          name: 'each lost POST retried with the same externalRefID, found as 200',
          ok: lostOrders.length > 0 && unresolved.length === 0,
          detail: `${lostOrders.length} orders lost a POST answer; ${unresolved.length} not ended by a 200 (${unresolved.join(', ')}); POST outcomes ${JSON.stringify(posts)}`,
        },
      ],
    };
  },
});

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

function countValues(values: number[]): Record<string, number> {
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

export const scenarios: Scenario[] = [
  workerKill,
  temporalRestart,
  serverErrors,
  rateLimit,
  latency,
  resets,
  responseLost,
  webhooksLost,
  webhooksDuplicated,
  webhooksReordered,
  webhooksDelayed,
  webhooksForged,
  webhooksFlood,
  badInput,
];

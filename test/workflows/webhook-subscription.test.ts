// webhookSubscriptionWorkflow on the time-skipping server with fake activities: it renews a
// margin before expiry (not earlier, not after), registers the URL again when the renewal answers
// 404 and then renews the new subscription, renews on an interval without an expiry, and
// continues as new after its renewals per run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { createActivities } from '../../src/activities/index.ts';
import { webhookSubscriptionWorkflowId } from '../../src/definitions.ts';
import {
  webhookSubscriptionQuery,
  webhookSubscriptionWorkflow,
} from '../../src/workflows/webhook-subscription-workflow.ts';
import { workflowBundle } from '../helpers/campaign-stack.ts';
import { createTimeSkippingEnv, runWithTangoQueue } from '../helpers/temporal.ts';

type Activities = Pick<
  ReturnType<typeof createActivities>,
  'renewWebhookSubscription' | 'registerWebhookSubscription'
>;

const HOUR = 3_600_000;
const LIFETIME = 24 * HOUR;

/** Scripted Tango: which ids it knows; every call logged with the workflow clock's time. */
class FakeTango implements Activities {
  calls: { call: string; atMs: number }[] = [];
  known = new Set<string>(['whk-1']);
  lifetimeMs: number | undefined = LIFETIME;
  next = 2;

  #at(): number {
    return Context.current().info.currentAttemptScheduledTimestampMs;
  }
  #expiry(atMs: number) {
    return this.lifetimeMs === undefined ? {} : { expiresAt: new Date(atMs + this.lifetimeMs).toISOString() };
  }

  renewWebhookSubscription: Activities['renewWebhookSubscription'] = async ({ webhookId }) => {
    const atMs = this.#at();
    this.calls.push({ call: `renew ${webhookId}`, atMs });
    return this.known.has(webhookId) ? { found: true, ...this.#expiry(atMs) } : { found: false };
  };

  registerWebhookSubscription: Activities['registerWebhookSubscription'] = async ({ url, headers }) => {
    const atMs = this.#at();
    const webhookId = `whk-${this.next++}`;
    this.known.add(webhookId);
    this.calls.push({ call: `register ${url} ${JSON.stringify(headers ?? [])}`, atMs });
    return { webhookId, ...this.#expiry(atMs) };
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('webhookSubscriptionWorkflow (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTimeSkippingEnv();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run<T>(fake: FakeTango, body: () => Promise<T>): Promise<T> {
    return runWithTangoQueue(
      {
        connection: env.nativeConnection,
        taskQueue: 'webhook-renewal-ts',
        workflowBundle: await workflowBundle(),
        activities: fake,
      },
      body,
    );
  }

  it('renews a margin before expiry, then again before the renewed expiry', async () => {
    const fake = new FakeTango();
    await run(fake, async () => {
      const startMs = await env.currentTimeMs();
      const handle = await env.client.workflow.start(webhookSubscriptionWorkflow, {
        taskQueue: 'webhook-renewal-ts',
        workflowId: webhookSubscriptionWorkflowId('whk-1'),
        args: [
          {
            webhookId: 'whk-1',
            url: 'https://hooks.example.com/tango',
            expiresAt: new Date(startMs + LIFETIME).toISOString(),
            renewMarginMs: 6 * HOUR,
          },
        ],
      });
      await env.sleep(17 * HOUR);
      assert.equal(fake.calls.length, 0, 'nothing renewed 7 h before the margin');
      await env.sleep(2 * HOUR);
      await until(() => fake.calls.length === 1, 'the first renewal');
      const first = fake.calls[0]!;
      assert.equal(first.call, 'renew whk-1');
      assert.ok(
        first.atMs >= startMs + 18 * HOUR - 1_000 && first.atMs < startMs + LIFETIME,
        'renewed in the margin',
      );
      const state = await handle.query(webhookSubscriptionQuery);
      assert.equal(state.renewals, 1);
      assert.equal(Date.parse(state.expiresAt!), first.atMs + LIFETIME);

      await env.sleep(19 * HOUR);
      await until(() => fake.calls.length === 2, 'the second renewal');
      assert.ok(fake.calls[1]!.atMs >= first.atMs + 18 * HOUR - 1_000);
      await handle.terminate('test done');
    });
  });

  it('registers the URL again (same headers) when the renewal answers 404, then renews the new subscription', async () => {
    const fake = new FakeTango();
    fake.known.clear(); // Tango lost whk-1
    await run(fake, async () => {
      const startMs = await env.currentTimeMs();
      const handle = await env.client.workflow.start(webhookSubscriptionWorkflow, {
        taskQueue: 'webhook-renewal-ts',
        workflowId: webhookSubscriptionWorkflowId('whk-lost'),
        args: [
          {
            webhookId: 'whk-1',
            url: 'https://hooks.example.com/tango',
            headers: [{ name: 'X-Env', value: 'prod' }],
            expiresAt: new Date(startMs + 2 * HOUR).toISOString(),
            renewMarginMs: 6 * HOUR,
          },
        ],
      });
      // Less than the margin left: renewed half-way through the 2 h.
      await env.sleep(1.5 * HOUR);
      await until(() => fake.calls.length === 2, 'the renewal and the registration');
      assert.deepEqual(
        fake.calls.map((c) => c.call),
        ['renew whk-1', 'register https://hooks.example.com/tango [{"name":"X-Env","value":"prod"}]'],
      );
      const state = await handle.query(webhookSubscriptionQuery);
      assert.equal(state.webhookId, 'whk-2');
      assert.equal(state.reRegistrations, 1);

      await env.sleep(19 * HOUR);
      await until(() => fake.calls.length === 3, 'the renewal of the new subscription');
      assert.equal(fake.calls[2]!.call, 'renew whk-2');
      assert.equal((await handle.query(webhookSubscriptionQuery)).renewals, 1);
      await handle.terminate('test done');
    });
  });

  it('renews on an interval without an expiry and continues as new after its renewals per run', async () => {
    const fake = new FakeTango();
    fake.lifetimeMs = undefined;
    await run(fake, async () => {
      const handle = await env.client.workflow.start(webhookSubscriptionWorkflow, {
        taskQueue: 'webhook-renewal-ts',
        workflowId: webhookSubscriptionWorkflowId('whk-interval'),
        args: [
          {
            webhookId: 'whk-1',
            url: 'https://hooks.example.com/tango',
            renewIntervalMs: HOUR,
            renewalsPerRun: 2,
          },
        ],
      });
      await env.sleep(3.5 * HOUR);
      await until(() => fake.calls.length === 3, 'three renewals');
      assert.deepEqual(
        fake.calls.map((c) => c.call),
        ['renew whk-1', 'renew whk-1', 'renew whk-1'],
      );
      const latest = await env.client.workflow.getHandle(handle.workflowId).describe();
      assert.notEqual(latest.runId, handle.firstExecutionRunId, 'continued as new');
      const state = await env.client.workflow.getHandle(handle.workflowId).query(webhookSubscriptionQuery);
      assert.equal(state.renewals, 1, 'the new run counts from zero');
      await env.client.workflow.getHandle(handle.workflowId).terminate('test done');
    });
  });
});

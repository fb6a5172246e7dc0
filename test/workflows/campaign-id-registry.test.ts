// Campaign ids are unique forever (ARCHITECTURE invariant 1): once a campaign's workflows are deleted
// (by hand, or by the namespace's retention), a second campaign under the same id with other items is
// refused through the client, the CLI and a raw Temporal start, and Tango receives no new order. Also:
// a start that never got going frees its claim again.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Client,
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { main } from '../../src/cli/main.ts';
import { CampaignClient, CampaignIdInUseError } from '../../src/client/index.ts';
import { campaignRef } from '../../src/campaign/ids.ts';
import { campaignWorkflowId } from '../../src/definitions.ts';
import { readRegistryEntry } from '../../src/store/campaign-registry.ts';
import { campaignItemsKey, campaignRegistryKey } from '../../src/store/keys.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import {
  type CampaignStack,
  assertCampaignInvariants,
  lineItem,
  startCampaignStack,
} from '../helpers/campaign-stack.ts';

const options = {
  pollInitial: '200ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  chunkSize: 10,
  maxConcurrentOrders: 4,
};
const account = { customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-1' };

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out;
}

describe('a campaign id used again after its workflows are gone', () => {
  let stack: CampaignStack;
  let client: CampaignClient;
  let dir: string;
  before(async () => {
    stack = await startCampaignStack({ taskQueue: 'registry-test' });
    await stack.startWorker();
    client = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue, store: stack.store });
    dir = mkdtempSync(path.join(tmpdir(), 'registry-'));
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Deletes the campaign's workflow and its order workflows, as retention would, and waits until gone. */
  async function deleteWorkflows(campaignId: string): Promise<void> {
    const ref = campaignRef(campaignId);
    const ids: string[] = [];
    for await (const execution of stack.env.client.workflow.list())
      if (
        execution.workflowId === campaignWorkflowId(campaignId) ||
        execution.workflowId.startsWith(`tango-order-${ref}-`)
      )
        ids.push(execution.workflowId);
    assert.ok(ids.includes(campaignWorkflowId(campaignId)), `found ${ids.join(', ')}`);
    assert.ok(ids.length > 1, 'the order workflows are deleted too');
    for (const workflowId of ids)
      await stack.env.client.workflowService.deleteWorkflowExecution({
        namespace: stack.env.namespace ?? 'default',
        workflowExecution: { workflowId },
      });
    // The server deletes in the background (about 30 s on the dev server).
    const deadline = Date.now() + 120_000;
    await Promise.all(
      ids.map(async (workflowId) => {
        for (;;) {
          try {
            await stack.env.client.workflow.getHandle(workflowId).describe();
          } catch (error) {
            if (error instanceof WorkflowNotFoundError) return;
            throw error;
          }
          assert.ok(Date.now() < deadline, `${workflowId} was not deleted within 120 s`);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }),
    );
  }

  it('is refused through the client, the CLI and a raw workflow start; Tango gets no new order', async () => {
    const campaignId = 'reused-q4';
    const firstItems = Array.from({ length: 30 }, () => lineItem('ok'));
    const started = await client.startCampaign(
      { ...account, campaignId, campaign: 'Q4 recognition', options },
      { items: firstItems },
    );
    const firstResult = await client.waitForCompletion(campaignId);
    assert.equal(firstResult.status, 'completed');
    await assertCampaignInvariants(
      stack,
      campaignId,
      firstItems.map((item) => item.externalRefLineItemID as string),
    );
    const entry = await readRegistryEntry(stack.store, campaignId);
    assert.ok(entry, 'the id is in the registry');
    assert.equal(entry.workflowId, campaignWorkflowId(campaignId));
    assert.equal(entry.runId, started.runId);
    assert.match(entry.claim, /^client:/);
    const registryBytes = (await stack.store.get(campaignRegistryKey(campaignId))).toString();
    const stagedItems = (await stack.store.get(campaignItemsKey(campaignId))).toString();

    await deleteWorkflows(campaignId);
    const before = stack.simulator.stats();
    const ledgerBefore = stack.simulator.ledger.size;
    const postsBefore = JSON.stringify(before.requests['POST /raas/v2/asyncOrders']);
    const storeBefore = await collect(stack.store.list(`campaigns/${campaignId}/`));
    const inUse = new RegExp(
      `campaign id "${campaignId}" was used by an earlier campaign \\(workflow campaign-${campaignId}, ` +
        `started ${entry.startedAt.replace(/[.]/g, '\\.')}\\): campaign ids are never reused, choose another id`,
    );
    // A second campaign: the same number of items, all of them different.
    const secondItems = Array.from({ length: 30 }, () => lineItem('ok'));

    // 1. The client.
    await assert.rejects(
      client.startCampaign({ ...account, campaignId, campaign: 'Q4 again', options }, { items: secondItems }),
      (error: unknown) => {
        assert.ok(error instanceof CampaignIdInUseError, String(error));
        assert.match(error.message, inUse);
        return true;
      },
    );

    // 2. The CLI: exit 1 with the message.
    const csv = path.join(dir, 'second.csv');
    writeFileSync(
      csv,
      [
        'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod',
        ...secondItems.map(
          (item) => `${item.externalRefLineItemID},Pat,Lee,pat@example.test,U000001,25,EMAIL`,
        ),
      ].join('\n') + '\n',
    );
    let stdout = '';
    let stderr = '';
    const cliCode = await main(
      [
        'start',
        csv,
        '--id',
        campaignId,
        '--customer',
        account.customerIdentifier,
        '--account',
        account.accountIdentifier,
        '--campaign',
        'Q4 again',
      ],
      {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
        env: {
          TEMPORAL_ADDRESS: stack.env.address,
          TEMPORAL_TASK_QUEUE: stack.taskQueue,
          CAMPAIGN_STORE: `file://${stack.storeDir}`,
        },
        cwd: dir,
      },
    );
    assert.equal(cliCode, 1, `${stdout}${stderr}`);
    assert.match(stderr, inUse);

    // 3. A raw start, as from the Temporal UI or `temporal workflow start`, which allows duplicates.
    const startedAt = Date.now();
    const raw = await stack.env.client.workflow.start('campaignWorkflow', {
      taskQueue: stack.taskQueue,
      workflowId: campaignWorkflowId(campaignId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [{ ...account, campaignId, items: { inline: secondItems }, options }],
    });
    await assert.rejects(raw.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError, String(error));
      assert.ok(error.cause instanceof ActivityFailure, String(error.cause));
      const cause = error.cause.cause;
      assert.ok(cause instanceof ApplicationFailure, String(cause));
      assert.equal(cause.type, 'CampaignIdInUse');
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, inUse);
      return true;
    });
    assert.ok(Date.now() - startedAt < 15_000, `failed after ${Date.now() - startedAt} ms`);

    // Nothing was sent, staged or overwritten.
    const afterStats = stack.simulator.stats();
    assert.equal(JSON.stringify(afterStats.requests['POST /raas/v2/asyncOrders']), postsBefore);
    assert.equal(afterStats.orders.count, before.orders.count);
    assert.equal(stack.simulator.ledger.size, ledgerBefore);
    assert.deepEqual(await collect(stack.store.list(`campaigns/${campaignId}/`)), storeBefore);
    assert.equal((await stack.store.get(campaignItemsKey(campaignId))).toString(), stagedItems);
    assert.equal((await stack.store.get(campaignRegistryKey(campaignId))).toString(), registryBytes);
  });

  it('claims the id inside the workflow when the client has no store, and refuses it later', async () => {
    const campaignId = 'reused-storeless';
    const storeless = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue });
    const items = Array.from({ length: 5 }, () => lineItem('ok'));
    const started = await storeless.startCampaign({
      ...account,
      campaignId,
      options,
      items: { inline: items },
    });
    assert.equal((await storeless.waitForCompletion(campaignId)).status, 'completed');
    const entry = await readRegistryEntry(stack.store, campaignId);
    assert.equal(entry?.claim, `workflow:${started.runId}`);
    assert.equal(entry?.runId, started.runId);
    await deleteWorkflows(campaignId);
    const posts = JSON.stringify(stack.simulator.stats().requests['POST /raas/v2/asyncOrders']);
    await storeless.startCampaign({
      ...account,
      campaignId,
      options,
      items: { inline: Array.from({ length: 5 }, () => lineItem('ok')) },
    });
    await assert.rejects(storeless.waitForCompletion(campaignId), /was used by an earlier campaign/);
    assert.equal(JSON.stringify(stack.simulator.stats().requests['POST /raas/v2/asyncOrders']), posts);
  });
});

describe('a start that never got going', () => {
  it('frees the id and removes the staged input again', async () => {
    const store = new MemoryStore('registry-release');
    const fake = {
      workflow: {
        getHandle: () => ({
          describe: () => Promise.reject(new WorkflowNotFoundError('gone', 'campaign-released', undefined)),
        }),
        start: () => Promise.reject(new Error('the namespace refused the start')),
      },
    } as unknown as Client;
    const client = new CampaignClient({ client: fake, store });
    const items = Array.from({ length: 150 }, () => lineItem('ok'));
    await assert.rejects(
      client.startCampaign({ ...account, campaignId: 'released', options }, { items }),
      /refused the start/,
    );
    assert.deepEqual(await collect(store.list('')), [], 'no claim and no staged items are left');
  });
});

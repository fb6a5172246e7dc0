// Records the histories of representative campaigns into test/fixtures/histories/, for the replay
// test that fails CI when a workflow change breaks determinism. Run after an intended, versioned
// change of workflow code:  node --import tsx scripts/record-histories.ts [--as TAG] [scenario ...]
// --as TAG records under campaign ids `replay-<scenario>-<TAG>` (e.g. the date), beside the histories
// of earlier workflow code instead of over them.
// Scenarios (all by default): mixed (failures, corrections, skips), cancelled (a campaign
// cancelled while an order waits to resubmit) and across (a campaign refused for repeat recipients,
// and one held by a spend limit until approved). Each overwrites only its own files:
// histories recorded by earlier workflow code stay, and the replay test keeps checking them.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { campaignRef, orderExternalRefId } from '../src/campaign/ids.ts';
import {
  approveUpdate,
  campaignWorkflowId,
  orderProgressQuery,
  orderWorkflowId,
  progressQuery,
  skipItemsUpdate,
  submitCorrectionsUpdate,
} from '../src/definitions.ts';
import { putJsonLines } from '../src/store/json.ts';
import type { CampaignOptionsInput } from '../src/workflows/types.ts';
import { campaignWorkflow } from '../src/workflows/index.ts';
import { type CampaignStack, lineItem, startCampaignStack } from '../test/helpers/campaign-stack.ts';

const outDir = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');

async function save(client: Client, workflowIds: string[]): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  for (const workflowId of workflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    // protobufjs' toJSON is the proto3 JSON that Worker.runReplayHistory reads back.
    writeFileSync(
      path.join(outDir, `${workflowId}.json`),
      JSON.stringify(proto.temporal.api.history.v1.History.fromObject(history).toJSON()),
    );
  }
  console.log(`saved ${workflowIds.join(', ')} to ${outDir}`);
}

async function startCampaign(
  stack: CampaignStack,
  campaignId: string,
  items: Record<string, unknown>[],
  options: CampaignOptionsInput,
) {
  await putJsonLines(stack.store, `inputs/${campaignId}.jsonl`, items);
  return stack.env.client.workflow.start(campaignWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: campaignWorkflowId(campaignId),
    args: [
      {
        campaignId,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        campaign: 'Replay fixture',
        items: { storeKey: `inputs/${campaignId}.jsonl` },
        options,
      },
    ],
  });
}

const orderIds = (campaignId: string, chunks: number) =>
  Array.from({ length: chunks }, (_, chunk) =>
    orderWorkflowId(orderExternalRefId(campaignRef(campaignId), chunk, 0)),
  );

async function until(read: () => Promise<boolean>): Promise<void> {
  while (!(await read())) await new Promise((resolve) => setTimeout(resolve, 200));
}

async function withStack(
  options: Parameters<typeof startCampaignStack>[0],
  body: (stack: CampaignStack) => Promise<void>,
  worker: Parameters<CampaignStack['startWorker']>[0] = {},
): Promise<void> {
  const stack = await startCampaignStack(options);
  try {
    await stack.startWorker(worker);
    await body(stack);
  } finally {
    await stack.close();
  }
}

const tagArg = process.argv.includes('--as') ? process.argv[process.argv.indexOf('--as') + 1] : undefined;
if (tagArg !== undefined && !/^[A-Za-z0-9-]{1,20}$/.test(tagArg))
  throw new Error(`--as takes a short tag of letters, digits and dashes, got ${String(tagArg)}`);
const tag = tagArg ? `-${tagArg}` : '';

const scenarios: Record<string, () => Promise<void>> = {
  mixed: () =>
    withStack({ taskQueue: 'record-histories' }, async (stack) => {
      const items = [
        ...Array.from({ length: 30 }, () => lineItem('ok')),
        ...Array.from({ length: 4 }, () => lineItem('transient')),
        ...Array.from({ length: 3 }, () => lineItem('blocked')),
        ...Array.from({ length: 3 }, () => lineItem('amount-too-high')),
        ...Array.from({ length: 3 }, () => lineItem('wrong-method')),
        ...Array.from({ length: 2 }, () => lineItem('discontinued')),
      ];
      const handle = await startCampaign(stack, `replay-mixed${tag}`, items, {
        chunkSize: 15,
        maxConcurrentOrders: 2,
        pollInitial: '300ms',
        pollMax: '1s',
        resubmitDelay: '100ms',
        correctionWindow: '1h',
        utidFallbacks: { U000002: 'U000001', U000004: 'U000001' },
      });
      await until(async () => {
        const progress = await handle.query(progressQuery);
        return progress.counts.awaitingCorrection === 3 && progress.counts.submitted === 0;
      });
      const tooHigh = items.filter((item) => String(item.externalRefLineItemID).startsWith('item-amount'));
      await handle.executeUpdate(submitCorrectionsUpdate, {
        args: [
          tooHigh
            .slice(0, 2)
            .map((item) => ({ externalRefLineItemID: String(item.externalRefLineItemID), amount: 40 })),
        ],
      });
      await handle.executeUpdate(skipItemsUpdate, {
        args: [
          { externalRefLineItemIDs: [String(tooHigh[2]!.externalRefLineItemID)], reason: 'left the company' },
        ],
      });
      await handle.result();
      await save(stack.env.client, [handle.workflowId, ...orderIds(`replay-mixed${tag}`, 3)]);
    }),

  cancelled: () =>
    withStack({ taskQueue: 'record-histories-cancelled' }, async (stack) => {
      const items = [
        ...Array.from({ length: 3 }, () => lineItem('ok')),
        ...Array.from({ length: 2 }, () => lineItem('transient')),
        ...Array.from({ length: 5 }, () => lineItem('ok')),
      ];
      const handle = await startCampaign(stack, `replay-cancelled${tag}`, items, {
        chunkSize: 5,
        maxConcurrentOrders: 1,
        pollInitial: '300ms',
        pollMax: '1s',
        // The first order waits an hour to resubmit its transient failures: the cancel comes then.
        resubmitDelay: '1h',
      });
      const [firstOrder] = orderIds(`replay-cancelled${tag}`, 1);
      await until(async () => {
        const order = stack.env.client.workflow.getHandle(firstOrder!);
        const progress = await order.query(orderProgressQuery).catch(() => undefined);
        return progress?.counts.queued === 2 && progress.counts.submitted === 0;
      });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await handle.cancel();
      const result = await handle.result();
      if (result.status !== 'cancelled') throw new Error(`cancelled: ${result.status}`);
      await save(stack.env.client, [handle.workflowId, ...orderIds(`replay-cancelled${tag}`, 1)]);
    }),

  across: () =>
    withStack(
      { taskQueue: 'record-histories-across' },
      async (stack) => {
        const options = { chunkSize: 10, pollInitial: '300ms', pollMax: '1s', resubmitDelay: '100ms' };
        const items = Array.from({ length: 20 }, () => lineItem('ok'));
        const first = await startCampaign(stack, `replay-across-first${tag}`, items, options);
        if ((await first.result()).status !== 'completed') throw new Error('across: first campaign');
        // The same recipients again: refused before anything is sent.
        const again = items.map((item, i) => ({ ...item, externalRefLineItemID: `again-${i}` }));
        const refused = await startCampaign(stack, `replay-refused${tag}`, again, options);
        if ((await refused.result()).status !== 'refused') throw new Error('across: not refused');
        // 20 x 25 more would cross the week's 800 (500 used): held until approved.
        const held = await startCampaign(
          stack,
          `replay-spend${tag}`,
          Array.from({ length: 20 }, () => lineItem('ok')),
          options,
        );
        await until(async () => (await held.query(progressQuery)).status === 'awaiting-approval');
        await held.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] });
        if ((await held.result()).status !== 'completed') throw new Error('across: spend campaign');
        await save(stack.env.client, [refused.workflowId, held.workflowId]);
      },
      {
        deliveries: {
          key: Buffer.from('replay fixture deliveries key'),
          spendLimits: { accounts: { 'sim-account-1': { week: 800 } } },
        },
        policy: { accounts: {}, requireDistinctApprover: false },
      },
    ),
};

const args = process.argv.slice(2);
const asIndex = args.indexOf('--as');
const chosen = asIndex === -1 ? args : args.filter((_, index) => index !== asIndex && index !== asIndex + 1);
for (const name of chosen.length > 0 ? chosen : Object.keys(scenarios)) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}: ${Object.keys(scenarios).join(', ')}`);
  await scenario();
}

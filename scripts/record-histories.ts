// Records the histories of representative campaigns into test/fixtures/histories/, for the replay
// test that fails CI when a workflow change breaks determinism. Run after an intended, versioned
// change of workflow code:  node --import tsx scripts/record-histories.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import {
  campaignWorkflowId,
  progressQuery,
  skipItemsUpdate,
  submitCorrectionsUpdate,
} from '../src/definitions.ts';
import { putJsonLines } from '../src/store/json.ts';
import { campaignWorkflow } from '../src/workflows/index.ts';
import { lineItem, startCampaignStack } from '../test/helpers/campaign-stack.ts';

const outDir = path.join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');

const stack = await startCampaignStack({ taskQueue: 'record-histories' });
try {
  await stack.startWorker();
  const client = stack.env.client;
  const items = [
    ...Array.from({ length: 30 }, () => lineItem('ok')),
    ...Array.from({ length: 4 }, () => lineItem('transient')),
    ...Array.from({ length: 3 }, () => lineItem('blocked')),
    ...Array.from({ length: 3 }, () => lineItem('amount-too-high')),
    ...Array.from({ length: 3 }, () => lineItem('wrong-method')),
    ...Array.from({ length: 2 }, () => lineItem('discontinued')),
  ];
  const campaignId = 'replay-mixed';
  await putJsonLines(stack.store, 'inputs/replay-mixed.jsonl', items);
  const handle = await client.workflow.start(campaignWorkflow, {
    taskQueue: stack.taskQueue,
    workflowId: campaignWorkflowId(campaignId),
    args: [
      {
        campaignId,
        customerIdentifier: 'sim-customer',
        accountIdentifier: 'sim-account-1',
        campaign: 'Replay fixture',
        items: { storeKey: 'inputs/replay-mixed.jsonl' },
        options: {
          chunkSize: 15,
          maxConcurrentOrders: 2,
          pollInitial: '300ms',
          pollMax: '1s',
          resubmitDelay: '100ms',
          correctionWindow: '1h',
          utidFallbacks: { U000002: 'U000001', U000004: 'U000001' },
        },
      },
    ],
  });
  for (;;) {
    const progress = await handle.query(progressQuery);
    if (progress.counts.awaitingCorrection === 3 && progress.counts.submitted === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  let saved = 0;
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${stack.taskQueue}'` })) {
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    // protobufjs' toJSON is the proto3 JSON that Worker.runReplayHistory reads back.
    writeFileSync(
      path.join(outDir, `${execution.workflowId}.json`),
      JSON.stringify(proto.temporal.api.history.v1.History.fromObject(history).toJSON()),
    );
    saved += 1;
  }
  console.log(`saved ${saved} histories to ${outDir}`);
} finally {
  await stack.close();
}

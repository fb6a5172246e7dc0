// reconcileCampaignWorkflow: an audit of one campaign against Tango. Lists every order the campaign
// sent (all rounds), reads each page by page (one Tango request per activity, on the Tango task queue,
// so the request budget covers it), then compares Tango's record of every item with the report.
// Never sends anything: its only Tango calls are GETs.
import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { createActivities } from '../activities/index.ts';
import type { ReconcileOutcome } from '../activities/reconcile.ts';
import { RECONCILE_ID_PATTERN } from '../campaign/reconcile.ts';
import { STORE_LONG, TANGO_REQUEST, onTangoQueue } from './activity-options.ts';
import { parseWorkflowInput } from './boundary.ts';

type Activities = ReturnType<typeof createActivities>;

export const reconcileInputSchema = z.object({
  campaignId: z.string().min(1).max(200),
  reconcileId: z.string().regex(RECONCILE_ID_PATTERN),
  /** Set by continue-as-new only: where the reading stood. */
  carry: z
    .object({
      orders: z.number().int().nonnegative(),
      order: z.number().int().nonnegative(),
      page: z.number().int().nonnegative(),
      cursor: z.string().optional(),
    })
    .optional(),
});
export type ReconcileWorkflowInput = z.input<typeof reconcileInputSchema>;

const storeActivities = proxyActivities<Activities>(STORE_LONG);

export async function reconcileCampaignWorkflow(raw: ReconcileWorkflowInput): Promise<ReconcileOutcome> {
  const input = parseWorkflowInput(reconcileInputSchema, raw, 'reconcileCampaignWorkflow');
  const { campaignId, reconcileId } = input;
  const run = { campaignId, reconcileId };
  const tango = proxyActivities<Activities>(onTangoQueue(TANGO_REQUEST));

  const orders =
    input.carry?.orders ??
    (
      await storeActivities.planReconcile.executeWithOptions({ summary: 'list the orders of every round' }, [
        run,
      ])
    ).orders;

  let page = input.carry?.page ?? 0;
  let cursor = input.carry?.cursor;
  for (let order = input.carry?.order ?? 0; order < orders; order += 1) {
    for (;;) {
      if (workflowInfo().continueAsNewSuggested)
        await continueAsNew<typeof reconcileCampaignWorkflow>({
          campaignId,
          reconcileId,
          carry: { orders, order, page, ...(cursor ? { cursor } : {}) },
        });
      const read = await tango.readReconcilePage.executeWithOptions(
        { summary: `read order ${order + 1}/${orders}, page ${page + 1}` },
        [{ ...run, order, page, ...(cursor ? { cursor } : {}) }],
      );
      if (!read.nextCursor) break;
      cursor = read.nextCursor;
      page += 1;
    }
    page = 0;
    cursor = undefined;
  }

  return await storeActivities.compareReconcile.executeWithOptions(
    { summary: 'compare Tango’s records with the report' },
    [run],
  );
}

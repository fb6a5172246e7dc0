// A workflow that exercises the pure campaign modules inside Temporal's workflow sandbox, so that a
// Node-only import or global in them fails a test instead of a production workflow task.
import { campaignRef, orderExternalRefId } from '../../src/campaign/ids.ts';
import { groupIntoChunks } from '../../src/campaign/chunking.ts';
import { classifyErrors } from '../../src/campaign/classification.ts';
import { checkLineItem } from '../../src/campaign/line-item.ts';
import { automaticFixes, mergeCorrection } from '../../src/campaign/corrections.ts';
import { reportCsvChunks, reportRow } from '../../src/campaign/report.ts';
import { roundLineItemsPageKey } from '../../src/store/keys.ts';

export async function pureModulesWorkflow(campaignId: string): Promise<unknown> {
  const ref = campaignRef(campaignId);
  const item = {
    externalRefLineItemID: 'L-1',
    recipient: { firstName: 'A', lastName: 'B', email: ' a@EXAMPLE.com' },
    utid: 'U000001',
    amount: 5,
    deliveryMethod: 'EMAIL' as const,
  };
  const fixed = automaticFixes(item, [{ errorCode: 'INVALID_EMAIL' }]);
  const merged = mergeCorrection(item, { externalRefLineItemID: 'L-1', amount: 7 });
  const chunks: number[] = [];
  for await (const group of groupIntoChunks([1, 2, 3, 4, 5], 2)) chunks.push(group.length);
  let csv = '';
  for await (const chunk of reportCsvChunks([
    reportRow({ item, terminal: { state: 'delivered' }, rounds: 1 }),
  ]))
    csv += chunk;
  return {
    ref,
    ids: [orderExternalRefId(ref, 3, 0), orderExternalRefId(ref, 3, 2)],
    chunks,
    classes: [
      classifyErrors([{ errorCode: 'PROCESSING_ERROR' }, { errorCode: 'INSUFFICIENT_FUNDS' }]),
      classifyErrors([{ errorCode: '??' }]),
    ],
    valid: checkLineItem(item).ok,
    fixed: fixed?.item.recipient?.email,
    merged: merged.ok ? merged.item.amount : merged.problems,
    csv,
    key: roundLineItemsPageKey(campaignId, 3, 2, 1),
  };
}

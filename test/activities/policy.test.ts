// The spending policy: loaded from CAMPAIGN_POLICY_FILE / APPROVAL_THRESHOLD_FLOOR (worker
// configuration, never campaign input), applied per account, and the money effect of corrections
// that the workflow re-checks against it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type StagedOperatorInput, createOperatorActivities } from '../../src/activities/operator.ts';
import { createPolicyActivities, loadCampaignPolicy } from '../../src/activities/policy.ts';
import { newEntry } from '../../src/campaign/order-book.ts';
import { effectiveApprovalThreshold, policyForAccount, sameIdentity } from '../../src/campaign/policy.ts';
import { memoryStore } from '../../src/store/memory.ts';
import { putJsonLines } from '../../src/store/json.ts';
import type { LineItemRequest } from '../../src/tango/schemas.ts';
import { lineItem } from '../helpers/line-items.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('policy configuration', () => {
  it('reads the file, per-account floors and the env floor; refuses bad values naming the variable', () => {
    const file = path.join(dir, 'policy.json');
    writeFileSync(
      file,
      JSON.stringify({
        approvalThresholdFloor: 5000,
        accounts: { 'acct-small': { approvalThresholdFloor: 250 } },
      }),
    );
    const policy = loadCampaignPolicy({ CAMPAIGN_POLICY_FILE: file, APPROVAL_THRESHOLD_FLOOR: '9' });
    assert.deepEqual(policy, {
      approvalThresholdFloor: 5000,
      accounts: { 'acct-small': { approvalThresholdFloor: 250 } },
      requireDistinctApprover: true,
    });
    assert.deepEqual(policyForAccount(policy, 'acct-small'), {
      approvalThresholdFloor: 250,
      requireDistinctApprover: true,
      source: 'account acct-small',
    });
    assert.equal(policyForAccount(policy, 'other').approvalThresholdFloor, 5000);
    assert.equal(loadCampaignPolicy({ APPROVAL_THRESHOLD_FLOOR: '1000' }).approvalThresholdFloor, 1000);
    assert.deepEqual(loadCampaignPolicy({}), { accounts: {}, requireDistinctApprover: true });
    assert.throws(() => loadCampaignPolicy({ APPROVAL_THRESHOLD_FLOOR: 'lots' }), /APPROVAL_THRESHOLD_FLOOR/);
    writeFileSync(file, JSON.stringify({ approvalThresholdFloor: -1, approvers: ['x'] }));
    assert.throws(
      () => loadCampaignPolicy({ CAMPAIGN_POLICY_FILE: file }),
      /CAMPAIGN_POLICY_FILE: .*approvalThresholdFloor/,
    );
  });

  it('takes the lower threshold: a campaign can lower it, never raise or remove it', async () => {
    const applied = await createPolicyActivities({
      approvalThresholdFloor: 1000,
      accounts: {},
      requireDistinctApprover: true,
    }).campaignPolicy({
      accountIdentifier: 'a',
    });
    assert.equal(effectiveApprovalThreshold(undefined, applied), 1000, 'no threshold asked: the floor');
    assert.equal(effectiveApprovalThreshold(1_000_000, applied), 1000, 'a higher one: the floor');
    assert.equal(effectiveApprovalThreshold(10, applied), 10, 'a lower one: kept');
    assert.equal(effectiveApprovalThreshold(10, undefined), 10, 'campaigns begun before the policy');
    assert.equal(sameIdentity(' Alice ', 'alice'), true);
  });
});

describe('money effect of corrections', () => {
  const item = (id: string, amount: number, utid = 'U000001'): LineItemRequest =>
    lineItem(id, { amount, utid });

  async function stage(corrections: Record<string, unknown>[]) {
    const store = memoryStore(`operator-money-${Math.random()}`);
    const bookKey = 'campaigns/c/orders/0/book-1.jsonl';
    await putJsonLines(
      store,
      bookKey,
      ['a', 'b', 'c'].map((id) => ({ ...newEntry(item(id, 100)), state: 'awaiting-correction' })),
    );
    const { stageOperatorInput } = createOperatorActivities(store);
    return (await new MockActivityEnvironment().run(stageOperatorInput, {
      campaignId: 'c',
      sequence: 1,
      kind: 'corrections' as const,
      payload: { kind: 'corrections' as const, corrections: corrections as never },
      orders: [{ chunk: 0, bookKey }],
    })) as StagedOperatorInput;
  }

  it('reports raised amounts and changed rewards, and the net change of the total', async () => {
    const raised = await stage([
      { externalRefLineItemID: 'a', amount: 250 },
      { externalRefLineItemID: 'b', amount: 40 },
    ]);
    assert.deepEqual(raised.money, { amountDelta: 90, raisesSpend: true, raisedItemsAmount: 250 });
    const reward = await stage([{ externalRefLineItemID: 'c', utid: 'U000009' }]);
    assert.deepEqual(reward.money, { amountDelta: 0, raisesSpend: true, raisedItemsAmount: 100 });
    const lowered = await stage([{ externalRefLineItemID: 'a', recipient: { email: 'new@example.com' } }]);
    assert.deepEqual(lowered.money, { amountDelta: 0, raisesSpend: false, raisedItemsAmount: 0 });
  });
});

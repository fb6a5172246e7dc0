// The client contract suite: behaviour the product relies on, written once and run against both
// the local simulator (client-simulator.test.ts) and the real Tango sandbox when credentials are
// present (sandbox-contract.test.ts). Only portable checks live here: no faults, no ledger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TangoClient } from '../../../src/tango/client.ts';
import { loadTangoConfig, type TangoConfig } from '../../../src/tango/config.ts';
import { TangoHttpError } from '../../../src/tango/errors.ts';
import {
  isFinalOrderStatus,
  type AsyncOrderDetail,
  type CreateAsyncOrderRequest,
  type LineItemRequest,
  type OrderRef,
} from '../../../src/tango/schemas.ts';
import { lineItem } from '../../helpers/line-items.ts';

export interface ContractTarget {
  /** Environment for loadTangoConfig (TANGO_*), e.g. the simulator's base URL or sandbox keys. */
  env: () => Record<string, string | undefined>;
  customerIdentifier: () => string;
  accountIdentifier: () => string;
  utid: () => string;
  amount: number;
  recipientEmail: (id: string) => string;
  /** Unique per run, so that a rerun against the sandbox never collides with old orders. */
  refPrefix: string;
  /** Waits between requests where the target enforces a rate limit (Tango: 1 TPS). */
  pace: () => Promise<void>;
  /** How long an order may take to reach a final status. */
  finalWithinMs: number;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

export function defineClientContract(target: ContractTarget): void {
  // Built on first use, inside a test: the target (e.g. the simulator) starts in a before() hook.
  let state: { config: TangoConfig; client: TangoClient } | undefined;
  const ctx = () => {
    if (!state) {
      const config = loadTangoConfig(target.env());
      state = { config, client: new TangoClient(config) };
    }
    return state;
  };
  const ref = (externalRefID: string): OrderRef => ({
    customerIdentifier: target.customerIdentifier(),
    accountIdentifier: target.accountIdentifier(),
    externalRefID,
  });
  const item = (id: string): LineItemRequest =>
    lineItem(id, {
      recipient: { firstName: 'Contract', lastName: 'Test', email: target.recipientEmail(id) },
      utid: target.utid(),
      amount: target.amount,
    });
  const order = (externalRefID: string, lineItems: LineItemRequest[]): CreateAsyncOrderRequest => ({
    externalRefID,
    customerIdentifier: target.customerIdentifier(),
    accountIdentifier: target.accountIdentifier(),
    campaign: 'tango-campaigns client contract',
    lineItems,
  });
  const waitFinal = async (r: OrderRef): Promise<AsyncOrderDetail> => {
    const deadline = Date.now() + target.finalWithinMs;
    for (;;) {
      await target.pace();
      const detail = await ctx().client.getAsyncOrder(r);
      if (isFinalOrderStatus(detail.orderStatus)) return detail;
      if (Date.now() > deadline) {
        assert.fail(`order ${r.externalRefID} still ${detail.orderStatus} after ${target.finalWithinMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  describe('client contract', () => {
    const mainRef = `${target.refPrefix}-main`;
    const ids = [0, 1, 2].map((i) => `${target.refPrefix}-item-${i}`);

    it('reads the catalog and the account', async () => {
      await target.pace();
      const catalog = await ctx().client.getCatalog();
      const utids = catalog.brands.flatMap((brand) => brand.items.map((i) => i.utid));
      assert.ok(utids.includes(target.utid()), `catalog lists ${target.utid()}`);
      await target.pace();
      const account = await ctx().client.getAccount(target.accountIdentifier());
      assert.equal(account.accountIdentifier, target.accountIdentifier());
      assert.ok(account.currentBalance >= 0);
    });

    it('creates an order, resubmission is idempotent, the order completes', async () => {
      await target.pace();
      const first = await ctx().client.createAsyncOrder(order(mainRef, ids.map(item)));
      assert.equal(first.created, true, `first POST returned ${first.httpStatus}`);
      assert.equal(first.order.externalRefID, mainRef);
      await target.pace();
      const again = await ctx().client.createAsyncOrder(order(mainRef, ids.map(item)));
      assert.equal(again.httpStatus, 200);
      assert.equal(again.created, false);
      assert.deepEqual(again.order.failedLineItems, []);
      const detail = await waitFinal(ref(mainRef));
      assert.equal(detail.externalRefID, mainRef);
      assert.equal(detail.totalLineItems, ids.length);
    });

    it('pages one line item at a time, resumes, and looks items up by id', async () => {
      await target.pace();
      const seen: string[] = [];
      const cursors: (string | undefined)[] = [];
      for await (const page of ctx().client.lineItemPages(ref(mainRef), { maxResults: 1 })) {
        seen.push(...page.lineItems.map((i) => i.externalRefLineItemID));
        cursors.push(page.nextCursor);
        await target.pace();
      }
      assert.deepEqual([...seen].sort(), [...ids].sort());
      assert.equal(cursors.at(-1), undefined);
      const resumed: string[] = [];
      for await (const page of ctx().client.lineItemPages(ref(mainRef), {
        maxResults: 1,
        startCursor: cursors[0],
      })) {
        resumed.push(...page.lineItems.map((i) => i.externalRefLineItemID));
        await target.pace();
      }
      assert.deepEqual(resumed, seen.slice(1));
      const found = await ctx().client.lookupLineItems(ref(mainRef), [
        ids[1]!,
        `${target.refPrefix}-not-there`,
      ]);
      assert.deepEqual(
        found.map((i) => i.externalRefLineItemID),
        [ids[1]],
      );
    });

    it('updates the order metadata', async () => {
      await target.pace();
      const patched = await ctx().client.updateAsyncOrder(ref(mainRef), { notes: 'contract patch' });
      assert.equal(patched.notes, 'contract patch');
    });

    it('404 for an unknown order, 401 for wrong credentials', async () => {
      await target.pace();
      const missing = await rejection(ctx().client.getAsyncOrder(ref(`${target.refPrefix}-never-created`)));
      assert.ok(missing instanceof TangoHttpError, String(missing));
      assert.equal(missing.status, 404);
      await target.pace();
      const wrong = new TangoClient({
        ...ctx().config,
        auth: { kind: 'basic', platformName: 'not-a-platform', platformKey: 'not-a-key' },
      });
      const denied = await rejection(wrong.getAccount(target.accountIdentifier()));
      assert.ok(denied instanceof TangoHttpError, String(denied));
      assert.equal(denied.status, 401);
    });
  });
}

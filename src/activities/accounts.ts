// Account and catalog activities: balance checks for the money controls, the dry run's catalog
// check, and PATCHing order metadata on every order a campaign has sent.
import { Context } from '@temporalio/activity';
import { type CatalogIndex, catalogIndex, catalogProblems } from '../campaign/catalog-check.ts';
import { campaignPrefix } from '../store/keys.ts';
import { getJson, putJsonLines, readJsonLines } from '../store/json.ts';
import type { CatalogResponse } from '../tango/schemas.ts';
import { lineItemRequestSchema } from '../tango/schemas.ts';
import type { ActivityDeps } from './deps.ts';
import { tangoCall } from './errors.ts';
import { loadCampaignDefinition } from './staging.ts';

export interface BalanceResult {
  currentBalance: number;
  currencyCode?: string;
  status?: string;
}

export interface PreflightResult {
  balance: number;
  accountStatus?: string;
  catalogProblems: number;
  problemsKey?: string;
  summary: string;
}

/** Tango asks that the catalog be fetched at most twice a day: one copy per worker, 12 hours. */
const CATALOG_TTL_MS = 12 * 3_600_000;

export function preflightProblemsKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}preflight-problems.jsonl`;
}

export function createAccountActivities(deps: Pick<ActivityDeps, 'store' | 'tango'>) {
  const { store, tango } = deps;
  let catalog: { fetchedAt: number; items: CatalogIndex } | undefined;

  async function catalogItems(): Promise<CatalogIndex> {
    if (catalog && Date.now() - catalog.fetchedAt < CATALOG_TTL_MS) return catalog.items;
    const response: CatalogResponse = await tangoCall(() => tango.getCatalog());
    const items = catalogIndex(response.brands);
    catalog = { fetchedAt: Date.now(), items };
    return items;
  }

  async function getAccountBalance(input: {
    customerIdentifier: string;
    accountIdentifier: string;
  }): Promise<BalanceResult> {
    const account = await tangoCall(() => tango.getAccount(input.accountIdentifier));
    return {
      currentBalance: account.currentBalance ?? 0,
      ...(account.currencyCode ? { currencyCode: account.currencyCode } : {}),
      ...(account.status ? { status: account.status } : {}),
    };
  }

  /** The dry run: every staged item against the catalog, and the total against the balance. */
  async function preflightCampaign(input: {
    campaignId: string;
    totalAmount: number;
    checkCatalog: boolean;
  }): Promise<PreflightResult> {
    const definition = await loadCampaignDefinition(store, input.campaignId);
    const balance = await getAccountBalance(definition);
    const problems: { externalRefLineItemID: string; field: string; message: string }[] = [];
    if (input.checkCatalog) {
      const items = await catalogItems();
      let seen = 0;
      for await (const row of readJsonLines(
        store,
        `${campaignPrefix(input.campaignId)}items.jsonl`,
        lineItemRequestSchema,
      )) {
        for (const problem of catalogProblems(row, items))
          problems.push({ externalRefLineItemID: row.externalRefLineItemID, ...problem });
        seen += 1;
        if (seen % 5000 === 0) Context.current().heartbeat(seen);
      }
    }
    const key = preflightProblemsKey(input.campaignId);
    await putJsonLines(store, key, problems);
    const funds =
      balance.currentBalance >= input.totalAmount
        ? `balance ${balance.currentBalance} covers the total ${input.totalAmount}`
        : `balance ${balance.currentBalance} does NOT cover the total ${input.totalAmount}`;
    return {
      balance: balance.currentBalance,
      ...(balance.status ? { accountStatus: balance.status } : {}),
      catalogProblems: problems.length,
      problemsKey: key,
      summary: `${problems.length} catalog problem(s); ${funds}; account ${balance.status ?? 'status unknown'}`,
    };
  }

  /** PATCHes campaign / PO number / notes on every order this campaign has sent so far. */
  async function patchSubmittedOrders(input: {
    campaignId: string;
    patch: { campaign?: string; purchaseOrderNumber?: string; notes?: string };
  }): Promise<number> {
    const definition = await loadCampaignDefinition(store, input.campaignId);
    const context = Context.current();
    const done = new Set<string>((context.info.heartbeatDetails as string[] | undefined) ?? []);
    let patched = done.size;
    for await (const key of store.list(`${campaignPrefix(input.campaignId)}orders/`)) {
      if (!key.endsWith('/order.json')) continue;
      const order = (await getJson(store, key)) as { externalRefID: string };
      if (done.has(order.externalRefID)) continue;
      await tangoCall(() =>
        tango.updateAsyncOrder(
          {
            customerIdentifier: definition.customerIdentifier,
            accountIdentifier: definition.accountIdentifier,
            externalRefID: order.externalRefID,
          },
          input.patch,
        ),
      );
      done.add(order.externalRefID);
      patched += 1;
      context.heartbeat([...done]);
    }
    return patched;
  }

  return { getAccountBalance, preflightCampaign, patchSubmittedOrders };
}

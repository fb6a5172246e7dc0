// The money-safety checks every scenario ends with (ARCHITECTURE invariants 1 and 2), read from the
// outside: the simulator's fulfilment ledger and the campaign's final report in the store.
import type { RunningSimulator } from '../src/simulator/index.ts';
import type { CampaignStore } from '../src/store/store.ts';
import { getJson } from '../src/store/json.ts';
import { reportJsonKey } from '../src/store/keys.ts';

export interface InvariantResult {
  name: string;
  ok: boolean;
  detail: string;
}

interface ReportRowLike {
  externalRefLineItemID: string;
  state: string;
  scheduledFor?: string;
}

const TERMINAL = new Set(['delivered', 'scheduled', 'given-up', 'cancelled']);

/** The calendar day (UTC) of a date or date-time, so that "2030-01-08" and "2030-01-08T00:00:00Z" agree. */
function dayOf(value: string | null | undefined): string {
  if (!value) return '';
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString().slice(0, 10);
}

function sample(ids: Iterable<string>, limit = 5): string {
  const list = [...ids];
  return list.slice(0, limit).join(', ') + (list.length > limit ? ` ... (${list.length} in all)` : '');
}

/**
 * No line item fulfilled twice; every input item in exactly one terminal state in report.json; the
 * ledger's fulfilled set equals the report's delivered set (nothing delivered that the report calls
 * given up, nothing reported delivered that Tango never fulfilled); the ledger's scheduled entries
 * equal the report's scheduled rows, on the same day; no item the report calls cancelled (never
 * sent) is in the ledger at all.
 */
export async function checkCampaignInvariants(options: {
  simulator: RunningSimulator;
  store: CampaignStore;
  campaignId: string;
  inputIds: readonly string[];
}): Promise<{ results: InvariantResult[]; counts: Record<string, number> }> {
  const { simulator, store, campaignId, inputIds } = options;
  const results: InvariantResult[] = [];
  const inputSet = new Set(inputIds);

  const duplicates = simulator.ledger
    .duplicates()
    .lineItems.filter((d) => inputSet.has(d.externalRefLineItemID));
  results.push({
    name: 'no line item fulfilled twice',
    ok: duplicates.length === 0,
    detail:
      duplicates.length === 0
        ? `${simulator.ledger.size} ledger entries, no duplicate externalRefLineItemID`
        : `fulfilled more than once: ${duplicates.map((d) => `${d.externalRefLineItemID} x${d.count} (${d.entries.map((e) => e.externalRefID).join(', ')})`).join('; ')}`,
  });

  let rows: ReportRowLike[] = [];
  try {
    const report = (await getJson(store, reportJsonKey(campaignId))) as { items?: ReportRowLike[] };
    rows = report.items ?? [];
  } catch (error) {
    results.push({ name: 'report written', ok: false, detail: (error as Error).message });
  }
  const byId = new Map<string, string[]>();
  for (const row of rows)
    byId.set(row.externalRefLineItemID, [...(byId.get(row.externalRefLineItemID) ?? []), row.state]);
  const missing = inputIds.filter((id) => !byId.has(id));
  const repeated = [...byId].filter(([, states]) => states.length > 1).map(([id]) => id);
  const notTerminal = [...byId]
    .filter(([, states]) => states.some((s) => !TERMINAL.has(s)))
    .map(([id]) => id);
  const extra = [...byId.keys()].filter((id) => !inputSet.has(id));
  const terminalOk =
    missing.length === 0 && repeated.length === 0 && notTerminal.length === 0 && extra.length === 0;
  results.push({
    name: 'every item in exactly one terminal state',
    ok: terminalOk,
    detail: terminalOk
      ? `${inputIds.length} input items, ${rows.length} report rows, each delivered / scheduled / given-up / cancelled once`
      : [
          missing.length ? `missing from the report: ${sample(missing)}` : '',
          repeated.length ? `listed twice: ${sample(repeated)}` : '',
          notTerminal.length ? `not terminal: ${sample(notTerminal)}` : '',
          extra.length ? `not in the input: ${sample(extra)}` : '',
        ]
          .filter(Boolean)
          .join('; '),
  });

  const fulfilled = new Set(
    simulator.ledger
      .entries()
      .filter((entry) => entry.state === 'fulfilled')
      .map((entry) => entry.externalRefLineItemID)
      .filter((id) => inputSet.has(id)),
  );
  const delivered = new Set(
    rows.filter((row) => row.state === 'delivered').map((row) => row.externalRefLineItemID),
  );
  const fulfilledNotDelivered = [...fulfilled].filter((id) => !delivered.has(id));
  const deliveredNotFulfilled = [...delivered].filter((id) => !fulfilled.has(id));
  const agree = fulfilledNotDelivered.length === 0 && deliveredNotFulfilled.length === 0;
  results.push({
    name: 'ledger fulfilled set == report delivered set',
    ok: agree,
    detail: agree
      ? `${delivered.size} delivered, all in the ledger; nothing else fulfilled`
      : [
          fulfilledNotDelivered.length
            ? `fulfilled by Tango but not reported delivered: ${sample(fulfilledNotDelivered)}`
            : '',
          deliveredNotFulfilled.length
            ? `reported delivered but never fulfilled: ${sample(deliveredNotFulfilled)}`
            : '',
        ]
          .filter(Boolean)
          .join('; '),
  });

  const entries = simulator.ledger.entries().filter((entry) => inputSet.has(entry.externalRefLineItemID));
  const ledgerScheduled = new Map(
    entries
      .filter((entry) => entry.state === 'scheduled')
      .map((entry) => [entry.externalRefLineItemID, dayOf(entry.scheduledFor)]),
  );
  const reportScheduled = new Map(
    rows
      .filter((row) => row.state === 'scheduled')
      .map((row) => [row.externalRefLineItemID, dayOf(row.scheduledFor)]),
  );
  const scheduledNotReported = [...ledgerScheduled.keys()].filter((id) => !reportScheduled.has(id));
  const reportedNotScheduled = [...reportScheduled.keys()].filter((id) => !ledgerScheduled.has(id));
  const otherDay = [...reportScheduled]
    .filter(([id, day]) => ledgerScheduled.has(id) && ledgerScheduled.get(id) !== day)
    .map(([id, day]) => `${id} (report ${day || '-'}, ledger ${ledgerScheduled.get(id) || '-'})`);
  const scheduledAgree =
    scheduledNotReported.length === 0 && reportedNotScheduled.length === 0 && otherDay.length === 0;
  results.push({
    name: 'ledger scheduled set == report scheduled set',
    ok: scheduledAgree,
    detail: scheduledAgree
      ? `${reportScheduled.size} scheduled, each on the ledger's delivery day`
      : [
          scheduledNotReported.length
            ? `scheduled by Tango but not reported scheduled: ${sample(scheduledNotReported)}`
            : '',
          reportedNotScheduled.length
            ? `reported scheduled but not scheduled in the ledger: ${sample(reportedNotScheduled)}`
            : '',
          otherDay.length ? `another delivery day: ${sample(otherDay)}` : '',
        ]
          .filter(Boolean)
          .join('; '),
  });

  const cancelled = new Set(
    rows.filter((row) => row.state === 'cancelled').map((row) => row.externalRefLineItemID),
  );
  const cancelledButHeld = [
    ...new Set(
      entries
        .filter((entry) => cancelled.has(entry.externalRefLineItemID))
        .map((e) => e.externalRefLineItemID),
    ),
  ];
  results.push({
    name: 'no cancelled (never sent) item in the ledger',
    ok: cancelledButHeld.length === 0,
    detail:
      cancelledButHeld.length === 0
        ? `${cancelled.size} cancelled, none in the ledger`
        : `reported cancelled but in the ledger: ${sample(cancelledButHeld)}`,
  });

  const counts: Record<string, number> = { delivered: 0, scheduled: 0, 'given-up': 0, cancelled: 0 };
  for (const row of rows) counts[row.state] = (counts[row.state] ?? 0) + 1;
  return { results, counts };
}

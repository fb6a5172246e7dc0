// `tango-campaigns reconcile <campaignId>`: audits a campaign against Tango (every order of every
// round re-read within the request budget) and lists every item where Tango and the report disagree.
// Sends nothing. Exit 0 when all agree, 1 when any disagree.
import { EXIT, type CliIo, type CommandSpec, parseCommand, printJson, withClient } from './context.ts';
import type { OperatorCommand } from './campaign-commands.ts';

const reconcileSpec = {
  usage: 'reconcile <campaignId> [--json]',
  summary:
    'Re-reads every order of the campaign (all rounds) from Tango and compares each item with the report; sends nothing.',
  options: {},
  help: {},
  positionals: { min: 1, max: 1 },
  details:
    'Exit code 0 when Tango and the report agree on every item, 1 when any disagree (each is listed:\n' +
    "item, report state, Tango's status and errors, order). Runs as a workflow on the workers, whose\n" +
    'request budget (TANGO_TPS) its Tango reads share; --json gives the full list.',
} satisfies CommandSpec<Record<string, never>>;

async function runReconcile(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(reconcileSpec, args, io);
  if (!parsed) return EXIT.ok;
  const campaignId = parsed.positionals[0]!;
  return withClient(io, async (client) => {
    const outcome = await client.reconcileCampaign(campaignId);
    if (parsed.values.json) {
      printJson(io, { ok: outcome.agreed, ...outcome });
      return outcome.agreed ? EXIT.ok : EXIT.failed;
    }
    const lines = [
      `Campaign ${campaignId} against Tango (${outcome.source === 'report' ? 'the final report' : 'running: its books'}): ` +
        `${outcome.items} item(s), ${outcome.orders} order(s), ${outcome.pages} page(s) read.`,
    ];
    if (outcome.ordersNotFound.length > 0)
      lines.push(
        `Orders Tango does not hold (a refused POST, or ask Tango): ${outcome.ordersNotFound.join(', ')}`,
      );
    if (outcome.agreed) lines.push('All items agree with Tango.');
    else {
      lines.push(`${outcome.disagreementCount} disagreement(s):`);
      for (const item of outcome.disagreements)
        lines.push(
          `  ${item.externalRefLineItemID}: report ${item.reportState || '(absent)'}, Tango ${item.tangoStatus}` +
            `${item.tangoErrors ? ` (${item.tangoErrors})` : ''} in order ${item.externalRefID || '?'}: ${item.message}`,
        );
      if (outcome.truncated)
        lines.push(
          `  ... the first ${outcome.disagreements.length}; all are in the store at ${outcome.resultKey}`,
        );
      lines.push('Nothing was sent. Each disagreement needs a person (docs/operations.md, "Reconciling").');
    }
    io.stdout.write(`${lines.join('\n')}\n`);
    return outcome.agreed ? EXIT.ok : EXIT.failed;
  });
}

export const reconcileCommand: OperatorCommand = {
  summary: 'audit a campaign against Tango: every item of every order vs the report (sends nothing)',
  run: runReconcile,
};

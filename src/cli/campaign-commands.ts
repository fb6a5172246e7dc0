// Operator commands for one campaign: validate a file, start, status, watch, failures, correct,
// skip, update-metadata, pause, resume, cancel, approve, reject, set-threshold, report.
// Why so long: fifteen commands, each a short function of flags -> client call -> output; they
// share the option parsing and the output helpers of this file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CampaignClient,
  type FailedItem,
  RepeatRecipientsError,
  isOpenExecution,
} from '../client/index.ts';
import { DEFAULT_REPEAT_WINDOW } from '../client/repeats.ts';
import { formatFileRepeat, repeatsInFile, withRows } from './repeats.ts';
import {
  type InputProblem,
  InputFileError,
  formatInputProblem,
  formatOfFile,
  readLineItemsFile,
  validateLineItemsFile,
} from '../input/line-items-file.ts';
import {
  CSV_COLUMNS,
  type CsvColumn,
  REQUIRED_CSV_COLUMNS,
  lineItemToCsvCells,
} from '../campaign/line-item.ts';
import { loadTangoConfig } from '../tango/config.ts';
import type { LineItemRequest } from '../tango/schemas.ts';
import type {
  BlockedOrder,
  CampaignOptionsInput,
  CampaignResult,
  FailureClassName,
} from '../workflows/types.ts';
import {
  type CliIo,
  CliError,
  EXIT,
  type CommandSpec,
  numberOption,
  parseCommand,
  printJson,
  requireOption,
  usageError,
  withClient,
} from './context.ts';
import { csvCell } from '../campaign/report.ts';
import { sharedTangoClient } from './tango-client.ts';
import { catalogIndex, catalogProblems as catalogProblemsOf } from '../campaign/catalog-check.ts';
import { FAILURE_CLASSES } from '../campaign/classification.ts';
import { writePrivateFile } from './output-file.ts';
import { progressBar, progressLine, settled, statusText, table } from './format.ts';

export interface OperatorCommand {
  summary: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const resolvePath = (io: CliIo, file: string) => path.resolve(io.cwd, file);

// ---------------------------------------------------------------------------------------------
// validate
// ---------------------------------------------------------------------------------------------

const validateSpec = {
  usage: 'validate <file> [--catalog] [--account <id> [--balance] [--repeat-window <d>]] [--json]',
  summary:
    'Dry run: checks every row of a CSV or JSON line-item file against Tango’s rules (and optionally the catalog and the account balance). Nothing is sent.',
  options: {
    catalog: { type: 'boolean' },
    balance: { type: 'boolean' },
    account: { type: 'string' },
    'repeat-window': { type: 'string' },
    'max-problems': { type: 'string' },
  },
  help: {
    catalog: 'check each utid exists, is active, allows the delivery method and the amount',
    balance: 'check the account balance covers the file’s total (needs --account)',
    account: 'Tango accountIdentifier: warns of recipients its earlier campaigns rewarded (and --balance)',
    'repeat-window': `how far back repeats count (default ${DEFAULT_REPEAT_WINDOW})`,
    'max-problems': 'problems listed (all are counted; default 100)',
  },
  positionals: { min: 1, max: 1 },
  details: 'Exit code 0 when the file is valid, 1 when it is not.',
} satisfies CommandSpec<Record<string, { type: 'boolean' | 'string' }>>;

interface CatalogProblem {
  row: number;
  field: string;
  message: string;
}

async function runValidate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(validateSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const file = resolvePath(io, positionals[0]!);
  if (values.balance && !values.account) throw usageError('--balance needs --account <accountIdentifier>');
  const maxProblems = numberOption(values['max-problems'], 'max-problems') ?? 100;

  const tango =
    values.catalog || values.balance ? await sharedTangoClient(loadTangoConfig(io.env), io.env) : undefined;
  const catalog = values.catalog && tango ? catalogIndex((await tango.getCatalog()).brands) : undefined;
  const catalogProblems: CatalogProblem[] = [];
  let items = 0;
  let totalCents = 0;
  let problems: InputProblem[] = [];
  let totalProblems = 0;
  if (catalog) {
    try {
      for await (const { row, item } of readLineItemsFile(file, { maxProblems })) {
        items += 1;
        totalCents += Math.round(item.amount * 100);
        for (const problem of catalogProblemsOf(item, catalog)) catalogProblems.push({ ...problem, row });
      }
    } catch (error) {
      if (!(error instanceof InputFileError)) throw error;
      problems = error.problems;
      totalProblems = error.totalProblems;
    }
  } else {
    const result = await validateLineItemsFile(file, { maxProblems });
    items = result.items;
    totalCents = Math.round(result.totalAmount * 100);
    problems = result.problems;
    totalProblems = result.totalProblems;
  }
  const totalAmount = totalCents / 100;
  let balance: { accountIdentifier: string; currentBalance: number; covers: boolean } | undefined;
  if (values.balance && tango) {
    const account = await tango.getAccount(values.account!);
    balance = {
      accountIdentifier: account.accountIdentifier,
      currentBalance: account.currentBalance,
      covers: account.currentBalance >= totalAmount,
    };
  }
  const ok = totalProblems === 0 && catalogProblems.length === 0 && (balance?.covers ?? true);
  const unit = formatOfFile(file) === 'json' ? 'item' : 'row';
  // Warnings only: `start` refuses them unless --allow-repeats.
  const repeats =
    values.account && totalProblems === 0
      ? await repeatsInFile(io.env, file, values.account, values['repeat-window'] ?? DEFAULT_REPEAT_WINDOW)
      : undefined;
  if (values.json) {
    printJson(io, {
      ok,
      file,
      items,
      totalAmount,
      problems,
      totalProblems,
      catalogProblems,
      ...(balance ? { balance } : {}),
      ...(repeats ? { repeats } : {}),
    });
  } else {
    for (const problem of problems) io.stdout.write(`${formatInputProblem(problem)}\n`);
    if (totalProblems > problems.length)
      io.stdout.write(`... and ${totalProblems - problems.length} more problem(s)\n`);
    for (const problem of catalogProblems)
      io.stdout.write(`${file}, ${unit} ${problem.row}, field ${problem.field}: ${problem.message}\n`);
    for (const repeat of repeats ?? [])
      io.stdout.write(`WARNING: ${formatFileRepeat(repeat, unit)} (same reward and amount)\n`);
    if (repeats?.length)
      io.stdout.write(
        `WARNING: ${repeats.length} recipient(s) already rewarded by account ${values.account} within ${values['repeat-window'] ?? DEFAULT_REPEAT_WINDOW}: start refuses them unless --allow-repeats\n`,
      );
    if (balance)
      io.stdout.write(
        `Balance of ${balance.accountIdentifier}: ${balance.currentBalance} ${balance.covers ? 'covers' : 'does NOT cover'} the total ${totalAmount}\n`,
      );
    io.stdout.write(
      ok
        ? `OK: ${items} line item(s), total amount ${totalAmount}; nothing was sent.\n`
        : `INVALID: ${totalProblems + catalogProblems.length} problem(s)${balance && !balance.covers ? ', balance too low' : ''}; ${items} valid line item(s). Nothing was sent.\n`,
    );
  }
  return ok ? EXIT.ok : EXIT.failed;
}

// ---------------------------------------------------------------------------------------------
// start
// ---------------------------------------------------------------------------------------------

const startSpec = {
  usage:
    'start <file> --customer <id> --account <id> --campaign <name> [--id <campaignId>] [--wait] [--json]',
  summary: 'Starts a campaign from a CSV or JSON line-item file (every row is checked first).',
  options: {
    customer: { type: 'string' },
    account: { type: 'string' },
    campaign: { type: 'string' },
    id: { type: 'string' },
    po: { type: 'string' },
    notes: { type: 'string' },
    options: { type: 'string' },
    'chunk-size': { type: 'string' },
    'approval-threshold': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'allow-repeats': { type: 'boolean' },
    'repeat-window': { type: 'string' },
    wait: { type: 'boolean' },
  },
  help: {
    customer: 'Tango customerIdentifier (required)',
    account: 'Tango accountIdentifier (required)',
    campaign: 'campaign name, sent as Tango’s `campaign` field (required)',
    id: 'campaign id (default: from the file name, campaign name and file content)',
    po: 'purchaseOrderNumber on every order',
    notes: 'notes on every order',
    options: 'JSON file with campaign options (chunkSize, correctionWindow, utidFallbacks, ...)',
    'chunk-size': 'line items per Tango order',
    'approval-threshold': 'wait for `approve` when the total amount exceeds this',
    'dry-run': 'validate and report without ordering',
    'allow-repeats':
      'send even to recipients an earlier campaign of the account rewarded with the same reward and amount',
    'repeat-window': `how far back repeats count (default ${DEFAULT_REPEAT_WINDOW})`,
    wait: 'wait until the campaign ends and print its result',
  },
  positionals: { min: 1, max: 1 },
  details:
    'A campaign id runs once: starting the same file under the same campaign name again is refused\n(exit 1), so nobody is rewarded twice. An id stays used even after its workflows are deleted\n(the store keeps a registry of ids): choose another --id.',
} satisfies CommandSpec<Record<string, { type: 'boolean' | 'string' }>>;

async function fileHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.failed);
  }
  return hash.digest('hex').slice(0, 10);
}

const slug = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();

/** `<file name>-<campaign name>-<content hash>`: the same file and name always give the same id. */
export async function deriveCampaignId(file: string, campaign: string): Promise<string> {
  const base = slug(path.basename(file, path.extname(file))).slice(0, 30) || 'campaign';
  const name = slug(campaign).slice(0, 36);
  return [base, name, await fileHash(file)].filter((part) => part !== '').join('-');
}

async function readOptionsFile(io: CliIo, file: string | undefined): Promise<CampaignOptionsInput> {
  if (!file) return {};
  const { readFile } = await import('node:fs/promises');
  try {
    const value: unknown = JSON.parse(await readFile(resolvePath(io, file), 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('expected a JSON object of campaign options');
    return value as CampaignOptionsInput;
  } catch (error) {
    throw usageError(`--options ${file}: ${(error as Error).message}`);
  }
}

async function* itemsOf(file: string): AsyncIterable<LineItemRequest> {
  for await (const { item } of readLineItemsFile(file)) yield item;
}

function resultExitCode(result: CampaignResult): number {
  return result.status === 'completed' || result.status === 'dry-run-complete' ? EXIT.ok : EXIT.failed;
}

function resultText(result: CampaignResult): string {
  const { counts } = result;
  return (
    `Campaign ${result.campaignId} ended ${result.status}${result.statusReason ? ` (${result.statusReason})` : ''}: ` +
    `${counts.total} items, ${counts.delivered} delivered, ${counts.givenUp} given up, ${counts.cancelled} cancelled; ` +
    `${result.orders} order(s), ${result.rounds + 1} round(s).\nReport: ${result.report.csv} (${result.report.rows} rows)\n`
  );
}

async function runStart(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(startSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const file = resolvePath(io, positionals[0]!);
  const customerIdentifier = requireOption(values.customer, 'customer');
  const accountIdentifier = requireOption(values.account, 'account');
  const campaign = requireOption(values.campaign, 'campaign');
  const options: CampaignOptionsInput = { ...(await readOptionsFile(io, values.options)) };
  const chunkSize = numberOption(values['chunk-size'], 'chunk-size');
  if (chunkSize !== undefined) options.chunkSize = chunkSize;
  const approvalThreshold = numberOption(values['approval-threshold'], 'approval-threshold');
  if (approvalThreshold !== undefined) options.approvalThreshold = approvalThreshold;
  if (values['dry-run']) options.dryRun = true;
  if (values['allow-repeats']) options.allowRepeats = true;
  if (values['repeat-window']) options.repeatWindow = values['repeat-window'];
  // A bad file is reported at once, whether Temporal is up or not: read it whole before connecting
  // (staging reads and checks it again as it streams it into the store).
  for await (const _ of readLineItemsFile(file)) void _;
  const campaignId = values.id ?? (await deriveCampaignId(file, campaign));

  return withClient(io, async (client) => {
    const started = await client
      .startCampaign(
        {
          campaignId,
          customerIdentifier,
          accountIdentifier,
          campaign,
          ...(values.po ? { purchaseOrderNumber: values.po } : {}),
          ...(values.notes ? { notes: values.notes } : {}),
          options,
        },
        { items: itemsOf(file) },
      )
      .catch((error: unknown) => (error instanceof RepeatRecipientsError ? error : Promise.reject(error)));
    if (started instanceof RepeatRecipientsError) return refuseRepeats(io, file, started, values.json);
    if (!values.wait) {
      if (values.json) printJson(io, { ok: true, ...started });
      else
        io.stdout.write(
          `Started campaign ${campaignId} (${started.items ?? '?'} items), workflow ${started.workflowId}.\n` +
            `Follow it with: tango-campaigns watch ${campaignId}\n`,
        );
      return EXIT.ok;
    }
    if (!values.json)
      io.stdout.write(
        `Started campaign ${campaignId} (${started.items ?? '?'} items); waiting for it to end...\n`,
      );
    const result = await client.waitForCompletion(campaignId);
    if (values.json) printJson(io, { ok: resultExitCode(result) === EXIT.ok, ...started, result });
    else io.stdout.write(resultText(result));
    return resultExitCode(result);
  });
}

/** A start refused for repeat recipients: each by file and row, exit 1. */
async function refuseRepeats(
  io: CliIo,
  file: string,
  error: RepeatRecipientsError,
  json: boolean | undefined,
): Promise<number> {
  const repeats = await withRows(file, error.repeats);
  if (json) {
    printJson(io, {
      ok: false,
      error: 'repeat-recipients',
      campaignId: error.campaignId,
      total: error.total,
      window: error.window,
      repeats,
    });
    return EXIT.failed;
  }
  const unit = formatOfFile(file) === 'json' ? 'item' : 'row';
  for (const repeat of repeats) io.stderr.write(`${formatFileRepeat(repeat, unit)}\n`);
  if (error.total > repeats.length) io.stderr.write(`... and ${error.total - repeats.length} more\n`);
  io.stderr.write(
    `REFUSED: ${error.total} recipient(s) of campaign ${error.campaignId} already rewarded by account with the same reward and amount within ${error.window}. ` +
      'Nothing was sent. If they are meant, start again with --allow-repeats.\n',
  );
  return EXIT.failed;
}

// ---------------------------------------------------------------------------------------------
// status, watch
// ---------------------------------------------------------------------------------------------

const idOnly = (usage: string, summary: string, details?: string) =>
  ({
    usage,
    summary,
    options: {},
    help: {},
    positionals: { min: 1, max: 1 },
    ...(details ? { details } : {}),
  }) satisfies CommandSpec<Record<string, never>>;

const statusSpec = idOnly(
  'status <campaignId> [--json]',
  'Shows where a campaign stands: status, counts, orders; for a finished campaign, its result.',
  'Exit code 1 when the campaign failed (e.g. its items were invalid), with the reason.',
);

async function runStatus(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(statusSpec, args, io);
  if (!parsed) return EXIT.ok;
  const campaignId = parsed.positionals[0]!;
  return withClient(io, async (client) => {
    const description = await client.describeCampaign(campaignId);
    if (!isOpenExecution(description.executionStatus)) {
      // A closed campaign answers from its result: no worker needs to replay it for a query.
      const result = await client.waitForCompletion(campaignId);
      if (parsed.values.json)
        printJson(io, { ok: true, executionStatus: description.executionStatus, result });
      else io.stdout.write(resultText(result));
      return EXIT.ok;
    }
    const progress = await client.getProgress(campaignId);
    if (parsed.values.json)
      printJson(io, { ok: true, executionStatus: description.executionStatus, progress });
    else io.stdout.write(statusText(progress, description.executionStatus));
    return EXIT.ok;
  });
}

const watchSpec = {
  usage: 'watch <campaignId> [--interval <seconds>] [--json]',
  summary:
    'Follows a campaign until it ends: a live progress bar on a terminal, one line per change otherwise (--json: one JSON object per line).',
  options: { interval: { type: 'string' } },
  help: { interval: 'seconds between updates (default 2)' },
  positionals: { min: 1, max: 1 },
  details: 'Exit code 0 when the campaign completes, 1 when it ends otherwise (cancelled, rejected, failed).',
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

async function runWatch(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(watchSpec, args, io);
  if (!parsed) return EXIT.ok;
  const campaignId = parsed.positionals[0]!;
  const interval = (numberOption(parsed.values.interval, 'interval') ?? 2) * 1000;
  const json = parsed.values.json === true;
  const live = !json && io.stdout.isTTY === true;
  return withClient(io, async (client) => {
    let last = '';
    for (;;) {
      const description = await client.describeCampaign(campaignId);
      if (!isOpenExecution(description.executionStatus)) break;
      const progress = await client.getProgress(campaignId).catch(() => undefined);
      if (progress) {
        const line = progressLine(progress);
        if (json) {
          if (line !== last) io.stdout.write(`${JSON.stringify({ event: 'progress', progress })}\n`);
        } else if (live) {
          io.stdout.write(`\r\x1b[2K${progressBar(settled(progress), progress.counts.total)} ${line}`);
        } else if (line !== last) io.stdout.write(`${new Date().toISOString()} ${line}\n`);
        last = line;
      }
      await sleep(interval);
    }
    if (live) io.stdout.write('\n');
    try {
      const result = await client.waitForCompletion(campaignId);
      if (json) io.stdout.write(`${JSON.stringify({ event: 'ended', result })}\n`);
      else io.stdout.write(resultText(result));
      return resultExitCode(result);
    } catch (error) {
      if (json)
        io.stdout.write(`${JSON.stringify({ event: 'failed', message: (error as Error).message })}\n`);
      throw error;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// failures, correct, skip
// ---------------------------------------------------------------------------------------------

const failuresSpec = {
  usage: 'failures <campaignId> [--class <class>] [--state <state>] [--csv <out.csv>] [--json]',
  summary:
    'Lists failed items of a running campaign (given-up items of a finished one) with their error codes and messages. --csv writes them in the input file’s columns, ready to edit and send back with `correct`.',
  options: {
    class: { type: 'string' },
    state: { type: 'string', multiple: true },
    csv: { type: 'string' },
    limit: { type: 'string' },
  },
  help: {
    class: `only this failure class: ${FAILURE_CLASSES.join(', ')}`,
    state: 'only items in this state: awaiting-correction, awaiting-funds, given-up',
    csv: 'write a CSV to this file ("-" for stdout) instead of the table',
    limit: 'at most this many items (default: all)',
  },
  positionals: { min: 1, max: 1 },
  details:
    'The CSV has the columns of an input file (no error columns), so that `correct <id> out.csv` reads it\nback; the table (or --json) says what is wrong with each item.',
} satisfies CommandSpec<Record<string, { type: 'string'; multiple?: boolean }>>;

const itemStates = ['awaiting-correction', 'awaiting-funds', 'given-up'] as const;

async function allFailures(
  client: CampaignClient,
  campaignId: string,
  options: { failureClass?: FailureClassName; states?: FailedItem['state'][]; limit?: number },
) {
  const items: FailedItem[] = [];
  let cursor: string | undefined;
  let totals;
  let closed = false;
  let blockedOrders: BlockedOrder[] = [];
  do {
    const page = await client.listFailures(campaignId, {
      ...(options.failureClass ? { failureClass: options.failureClass } : {}),
      ...(options.states ? { states: options.states } : {}),
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    totals = page.totals;
    closed = page.closed;
    blockedOrders = page.blockedOrders ?? blockedOrders;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && (options.limit === undefined || items.length < options.limit));
  return {
    items: options.limit === undefined ? items : items.slice(0, options.limit),
    totals,
    closed,
    blockedOrders,
  };
}

export function failuresCsv(items: FailedItem[]): string {
  const cells = items.map((failed) => lineItemToCsvCells(failed.item));
  const columns = CSV_COLUMNS.filter(
    (column: CsvColumn) => REQUIRED_CSV_COLUMNS.includes(column) || cells.some((row) => row[column] !== ''),
  );
  const lines = [
    columns.join(','),
    ...cells.map((row) => columns.map((column) => csvCell(row[column])).join(',')),
  ];
  return lines.join('\n') + '\n';
}

async function runFailures(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(failuresSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const campaignId = positionals[0]!;
  if (values.class && !(FAILURE_CLASSES as readonly string[]).includes(values.class))
    throw usageError(`--class must be one of ${FAILURE_CLASSES.join(', ')}, got "${values.class}"`);
  for (const state of values.state ?? [])
    if (!(itemStates as readonly string[]).includes(state))
      throw usageError(`--state must be one of ${itemStates.join(', ')}, got "${state}"`);
  const limit = numberOption(values.limit, 'limit');
  return withClient(io, async (client) => {
    const { items, totals, closed, blockedOrders } = await allFailures(client, campaignId, {
      ...(values.class ? { failureClass: values.class as FailureClassName } : {}),
      ...(values.state ? { states: values.state as FailedItem['state'][] } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
    if (closed)
      io.stderr.write(
        `Campaign ${campaignId} has ended: these are its given-up items from the report (no recipient details), and it takes no corrections. Start a new campaign for them.\n`,
      );
    if (values.csv !== undefined) {
      const csv = failuresCsv(items);
      if (values.csv === '-') io.stdout.write(csv);
      else {
        await writePrivateFile(resolvePath(io, values.csv), csv);
        const message = `Wrote ${items.length} failed item(s) to ${values.csv}; edit them and send them back with: tango-campaigns correct ${campaignId} ${values.csv}\n`;
        if (values.json) printJson(io, { ok: true, file: values.csv, items: items.length, totals });
        else io.stdout.write(message);
      }
      return EXIT.ok;
    }
    // Blocked orders are not failed items, but a person must look at them: always say so.
    for (const order of blockedOrders)
      io.stderr.write(`Order ${order.externalRefID} (chunk ${order.chunk}) is blocked: ${order.reason}\n`);
    if (values.json) {
      printJson(io, { ok: true, campaignId, closed, totals, blockedOrders, items });
      return EXIT.ok;
    }
    io.stdout.write(
      `${totals.awaitingCorrection} awaiting correction, ${totals.awaitingFunds} awaiting funds, ${totals.givenUp} given up\n`,
    );
    if (items.length > 0)
      io.stdout.write(
        table(
          ['externalRefLineItemID', 'state', 'class', 'codes', 'message'],
          items.map((item) => [
            item.externalRefLineItemID,
            item.state,
            item.failureClass ?? '',
            item.errors
              .map((error) => error.code ?? '')
              .filter(Boolean)
              .join(' '),
            item.errors
              .map((error) => error.message ?? '')
              .filter(Boolean)
              .join('; ') ||
              (item.reason ?? ''),
          ]),
        ),
      );
    return EXIT.ok;
  });
}

const correctSpec = {
  usage: 'correct <campaignId> <file> [--json]',
  summary:
    'Sends corrections for failed items. CSV: rows in the input file’s columns (as written by `failures --csv`), each a whole line item. JSON: an array of corrections, each { externalRefLineItemID, <fields to change> }.',
  options: {},
  help: {},
  positionals: { min: 2, max: 2 },
  details:
    'Every correction is checked against Tango’s rules before anything is sent; one bad correction refuses the batch.',
} satisfies CommandSpec<Record<string, never>>;

async function readCorrections(file: string): Promise<Record<string, unknown>[]> {
  if (formatOfFile(file) === 'csv') {
    const corrections: Record<string, unknown>[] = [];
    for await (const { item } of readLineItemsFile(file)) corrections.push(item);
    return corrections;
  }
  const { readFile } = await import('node:fs/promises');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: not a readable JSON file (${(error as Error).message})`, EXIT.failed);
  }
  if (!Array.isArray(value))
    throw new CliError(
      `${file}: expected a JSON array of corrections ({ "externalRefLineItemID": ..., <fields> })`,
      EXIT.failed,
    );
  return value as Record<string, unknown>[];
}

async function runCorrect(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(correctSpec, args, io);
  if (!parsed) return EXIT.ok;
  const [campaignId, rawFile] = parsed.positionals as [string, string];
  const corrections = await readCorrections(resolvePath(io, rawFile));
  return withClient(io, async (client) => {
    const result = await client.submitCorrections(campaignId, corrections as never);
    if (parsed.values.json) printJson(io, { ok: true, ...result });
    else
      io.stdout.write(
        `Accepted ${result.accepted} correction(s) for ${result.orders} order(s); they go out in the next round.\n`,
      );
    return EXIT.ok;
  });
}

const skipSpec = {
  usage: 'skip <campaignId> <externalRefLineItemID...> --reason <text> [--json]',
  summary: 'Gives up failed items on purpose: they are never sent again; the reason goes in the report.',
  options: { reason: { type: 'string' } },
  help: { reason: 'why (required; shown in the report)' },
  positionals: { min: 2 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

async function runSkip(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(skipSpec, args, io);
  if (!parsed) return EXIT.ok;
  const [campaignId, ...ids] = parsed.positionals as [string, ...string[]];
  const reason = requireOption(parsed.values.reason, 'reason');
  return withClient(io, async (client) => {
    const result = await client.skipItems(campaignId, ids, reason);
    if (parsed.values.json) printJson(io, { ok: true, ...result });
    else io.stdout.write(`Skipped ${result.accepted} item(s).\n`);
    return EXIT.ok;
  });
}

// ---------------------------------------------------------------------------------------------
// update-metadata, pause, resume, cancel, approve, reject, set-threshold
// ---------------------------------------------------------------------------------------------

const metadataSpec = {
  usage: 'update-metadata <campaignId> [--campaign <name>] [--po <number>] [--notes <text>] [--json]',
  summary:
    'Changes the campaign name, purchase order number or notes on every submitted order (PATCH) and on the ones to come.',
  options: { campaign: { type: 'string' }, po: { type: 'string' }, notes: { type: 'string' } },
  help: { campaign: 'new campaign name', po: 'new purchaseOrderNumber', notes: 'new notes' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

async function runUpdateMetadata(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(metadataSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values } = parsed;
  if (values.campaign === undefined && values.po === undefined && values.notes === undefined)
    throw usageError('name at least one of --campaign, --po, --notes');
  const campaignId = parsed.positionals[0]!;
  return withClient(io, async (client) => {
    const result = await client.updateMetadata(campaignId, {
      ...(values.campaign !== undefined ? { campaign: values.campaign } : {}),
      ...(values.po !== undefined ? { purchaseOrderNumber: values.po } : {}),
      ...(values.notes !== undefined ? { notes: values.notes } : {}),
    });
    if (values.json) printJson(io, { ok: true, ...result });
    else io.stdout.write(`Metadata updated; ${result.ordersPatched} submitted order(s) patched.\n`);
    return EXIT.ok;
  });
}

function simpleCommand(
  spec: CommandSpec<Record<string, { type: 'string' }>>,
  act: (
    client: CampaignClient,
    campaignId: string,
    values: Record<string, string | undefined>,
  ) => Promise<string>,
): OperatorCommand['run'] {
  return async (args, io) => {
    const parsed = parseCommand(spec, args, io);
    if (!parsed) return EXIT.ok;
    const campaignId = parsed.positionals[0]!;
    const values = parsed.values as Record<string, string | undefined> & { json?: boolean };
    return withClient(io, async (client) => {
      const message = await act(client, campaignId, values);
      if (values.json) printJson(io, { ok: true, campaignId, message });
      else io.stdout.write(`${message}\n`);
      return EXIT.ok;
    });
  };
}

const pauseSpec = {
  usage: 'pause <campaignId> [--reason <text>] [--json]',
  summary: 'Stops new submissions; orders already with Tango settle normally.',
  options: { reason: { type: 'string' } },
  help: { reason: 'shown in the campaign status' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const resumeSpec = {
  ...idOnly(
    'resume <campaignId> [--json]',
    'Resumes a paused campaign (or one stopped by its failure threshold).',
  ),
  options: {},
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const cancelSpec = {
  ...idOnly(
    'cancel <campaignId> [--json]',
    'Cancels a campaign: it stops submitting, lets the orders with Tango settle, gives up what was waiting and writes its report.',
  ),
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const approveSpec = {
  usage: 'approve <campaignId> --approver <name> [--note <text>] [--json]',
  summary: 'Approves a campaign waiting for approval (its total exceeded the approval threshold).',
  options: { approver: { type: 'string' }, note: { type: 'string' } },
  help: { approver: 'who approves (required)', note: 'optional note' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const rejectSpec = {
  usage: 'reject <campaignId> --approver <name> --reason <text> [--json]',
  summary:
    'Rejects a campaign waiting for approval: nothing is sent, the report lists every item as cancelled.',
  options: { approver: { type: 'string' }, reason: { type: 'string' } },
  help: { approver: 'who rejects (required)', reason: 'why (required)' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const fundsSpec = {
  usage: 'funds-added <campaignId> [--amount <n>] [--note <text>] [--json]',
  summary:
    'Signals that funds were added to the Tango account: orders waiting for funds check the balance now instead of at their next periodic check.',
  options: { amount: { type: 'string' }, note: { type: 'string' } },
  help: { amount: 'amount added (informational)', note: 'optional note' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

const thresholdSpec = {
  usage: 'set-threshold <campaignId> [--percent <0-100>] [--count <n>] [--json]',
  summary: 'Sets the failure threshold: new submissions pause once given-up items exceed it.',
  options: { percent: { type: 'string' }, count: { type: 'string' } },
  help: { percent: 'share of all items given up', count: 'number of items given up' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' }>>;

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

const reportSpec = {
  usage: 'report <campaignId> [--csv | --json] [--out <file>]',
  summary:
    'The final report: every line item with its terminal state (delivered, given up, cancelled) and why. Without --csv/--json, a summary.',
  options: { csv: { type: 'boolean' }, out: { type: 'string' } },
  help: { csv: 'the report as CSV', out: 'write to this file instead of stdout' },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'boolean' | 'string' }>>;

async function runReport(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(reportSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values } = parsed;
  const campaignId = parsed.positionals[0]!;
  if (values.csv && values.json) throw usageError('choose one of --csv and --json');
  return withClient(io, async (client) => {
    if (values.csv || values.json) {
      const stream = await client.reportStream(campaignId, values.csv ? 'csv' : 'json');
      if (values.out) {
        await writePrivateFile(resolvePath(io, values.out), stream);
        io.stderr.write(`Wrote the report of ${campaignId} to ${values.out}\n`);
      } else for await (const chunk of stream) io.stdout.write(chunk.toString('utf8'));
      return EXIT.ok;
    }
    const report = await client.getReport(campaignId);
    const byState = new Map<string, number>();
    const byReason = new Map<string, number>();
    for (const row of report.items) {
      byState.set(row.state, (byState.get(row.state) ?? 0) + 1);
      if (row.state !== 'delivered') {
        const reason = `${row.state}: ${row.reason.split(':')[0] ?? row.reason}`;
        byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      }
    }
    const text = [
      `Report of campaign ${campaignId}: ${report.items.length} item(s)`,
      ...[...byState].map(([state, count]) => `  ${state}: ${count}`),
      ...(byReason.size > 0
        ? ['Not delivered, by reason:', ...[...byReason].map(([reason, count]) => `  ${count} × ${reason}`)]
        : []),
      `Full report: tango-campaigns report ${campaignId} --csv --out ${campaignId}-report.csv`,
    ].join('\n');
    if (values.out) await writePrivateFile(resolvePath(io, values.out), `${text}\n`);
    else io.stdout.write(`${text}\n`);
    return EXIT.ok;
  });
}

export const campaignCommands: Record<string, OperatorCommand> = {
  validate: { summary: 'check a line-item file (dry run, nothing sent)', run: runValidate },
  start: { summary: 'start a campaign from a CSV or JSON file', run: runStart },
  status: { summary: 'show a campaign’s status and counts', run: runStatus },
  watch: { summary: 'follow a campaign with a progress bar until it ends', run: runWatch },
  failures: { summary: 'list failed items (table, JSON, or CSV ready to edit)', run: runFailures },
  correct: { summary: 'send corrections for failed items from a CSV or JSON file', run: runCorrect },
  skip: { summary: 'give up failed items on purpose', run: runSkip },
  'update-metadata': {
    summary: 'change campaign name / PO number / notes on its orders',
    run: runUpdateMetadata,
  },
  pause: {
    summary: 'stop new submissions',
    run: simpleCommand(pauseSpec, async (client, id, values) => {
      await client.pauseCampaign(id, values.reason);
      return `Paused campaign ${id}; orders already with Tango settle normally.`;
    }),
  },
  resume: {
    summary: 'resume a paused campaign',
    run: simpleCommand(resumeSpec, async (client, id) => {
      await client.resumeCampaign(id);
      return `Resumed campaign ${id}.`;
    }),
  },
  cancel: {
    summary: 'cancel a campaign (in-flight orders settle, then the report)',
    run: simpleCommand(cancelSpec, async (client, id) => {
      await client.cancelCampaign(id);
      return `Cancellation requested for ${id}: it stops submitting, lets in-flight orders settle and writes its report. Follow it with: tango-campaigns watch ${id}`;
    }),
  },
  approve: {
    summary: 'approve a campaign waiting for approval',
    run: simpleCommand(approveSpec, async (client, id, values) => {
      const result = await client.approveCampaign(
        id,
        requireOption(values.approver, 'approver'),
        values.note,
      );
      return `Campaign ${id} approved by ${result.approvedBy}.`;
    }),
  },
  reject: {
    summary: 'reject a campaign waiting for approval',
    run: simpleCommand(rejectSpec, async (client, id, values) => {
      const result = await client.rejectCampaign(
        id,
        requireOption(values.approver, 'approver'),
        requireOption(values.reason, 'reason'),
      );
      return `Campaign ${id} rejected by ${result.rejectedBy}; nothing will be sent.`;
    }),
  },
  'funds-added': {
    summary: 'tell a campaign waiting for funds that the account was topped up',
    run: simpleCommand(fundsSpec, async (client, id, values) => {
      const amount = numberOption(values.amount, 'amount');
      await client.notifyFundsAdded(id, {
        ...(amount !== undefined ? { amount } : {}),
        ...(values.note ? { note: values.note } : {}),
      });
      return `Campaign ${id} notified: orders waiting for funds check the balance now.`;
    }),
  },
  'set-threshold': {
    summary: 'set the failure threshold that pauses a campaign',
    run: simpleCommand(thresholdSpec, async (client, id, values) => {
      const percent = numberOption(values.percent, 'percent');
      const count = numberOption(values.count, 'count');
      if (percent === undefined && count === undefined) throw usageError('give --percent, --count or both');
      await client.setFailureThreshold(id, {
        ...(percent !== undefined ? { percent } : {}),
        ...(count !== undefined ? { count } : {}),
      });
      return `Failure threshold of ${id} set.`;
    }),
  },
  report: { summary: 'the final report (summary, CSV or JSON)', run: runReport },
};

// `schedule create|list|describe|pause|unpause|trigger|delete`: weekly campaigns as Temporal Schedules,
// and `setup`: registers our search attributes on the connected namespace.
import { Connection } from '@temporalio/client';
import {
  WEEKDAYS,
  type ScheduleInfo,
  loadCampaignClientConfig,
  TemporalUnavailableError,
} from '../client/index.ts';
import { allSearchAttributes } from '../definitions.ts';
import {
  type CliIo,
  EXIT,
  type CommandSpec,
  helpText,
  parseCommand,
  printJson,
  requireOption,
  usageError,
  withClient,
} from './context.ts';
import type { OperatorCommand } from './campaign-commands.ts';
import { table } from './format.ts';

const createSpec = {
  usage:
    'schedule create <scheduleId> --source <path|url> --customer <id> --account <id> --day <weekday> [--time HH:MM] [--timezone <tz>] [--campaign <name>] [--json]',
  summary:
    'Creates a weekly schedule: at each slot, the workers read the line items from --source and run a campaign whose id is <scheduleId>-<slot time> (a slot never runs twice).',
  options: {
    source: { type: 'string' },
    format: { type: 'string' },
    customer: { type: 'string' },
    account: { type: 'string' },
    campaign: { type: 'string' },
    po: { type: 'string' },
    notes: { type: 'string' },
    day: { type: 'string' },
    time: { type: 'string' },
    timezone: { type: 'string' },
    paused: { type: 'boolean' },
    note: { type: 'string' },
    'allow-repeats': { type: 'boolean' },
    'repeat-window': { type: 'string' },
  },
  help: {
    source: 'input file path as the workers see it, or an http(s) URL (required)',
    format: 'csv or json (default: from the extension)',
    customer: 'Tango customerIdentifier (required)',
    account: 'Tango accountIdentifier (required)',
    campaign: 'campaign name on each order',
    po: 'purchaseOrderNumber',
    notes: 'notes on each order',
    day: `day of the week: ${WEEKDAYS.join(', ')} (required)`,
    time: 'time of day, HH:MM (default 09:00)',
    timezone: 'IANA time zone (default UTC)',
    paused: 'create it paused',
    note: 'a note shown with the schedule',
    'allow-repeats':
      'let its runs reward recipients earlier campaigns rewarded with the same reward and amount',
    'repeat-window': 'how far back repeats count (default 30d)',
  },
  positionals: { min: 1, max: 1 },
} satisfies CommandSpec<Record<string, { type: 'string' | 'boolean' }>>;

const listSpec = {
  usage: 'schedule list [--json]',
  summary: 'Lists the campaign schedules on the namespace.',
  options: {},
  help: {},
  positionals: { min: 0, max: 0 },
} satisfies CommandSpec<Record<string, never>>;

const oneSchedule = (verb: string, summary: string) =>
  ({
    usage: `schedule ${verb} <scheduleId> [--json]`,
    summary,
    options: {},
    help: {},
    positionals: { min: 1, max: 1 },
  }) satisfies CommandSpec<Record<string, never>>;

function scheduleLine(info: ScheduleInfo): string[] {
  return [
    info.scheduleId,
    info.paused ? 'paused' : 'active',
    info.nextActionTimes[0]?.toISOString() ?? '',
    info.recentActions.at(-1)?.scheduledAt.toISOString() ?? '',
    info.note ?? '',
  ];
}

async function runCreate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(createSpec, args, io);
  if (!parsed) return EXIT.ok;
  const { values } = parsed;
  const scheduleId = parsed.positionals[0]!;
  const day = requireOption(values.day, 'day').toUpperCase();
  const weekday = WEEKDAYS.find((name) => name === day || name.slice(0, 3) === day);
  if (!weekday) throw usageError(`--day must be a weekday (${WEEKDAYS.join(', ')}), got "${values.day}"`);
  const time = /^(\d{1,2}):(\d{2})$/.exec(values.time ?? '09:00');
  if (!time) throw usageError(`--time must be HH:MM, got "${values.time}"`);
  const format = values.format;
  if (format !== undefined && format !== 'csv' && format !== 'json')
    throw usageError(`--format must be csv or json, got "${format}"`);
  return withClient(io, async (client) => {
    await client.createWeeklySchedule({
      scheduleId,
      source: { location: requireOption(values.source, 'source'), ...(format ? { format } : {}) },
      campaign: {
        customerIdentifier: requireOption(values.customer, 'customer'),
        accountIdentifier: requireOption(values.account, 'account'),
        ...(values.campaign ? { campaign: values.campaign } : {}),
        ...(values.po ? { purchaseOrderNumber: values.po } : {}),
        ...(values.notes ? { notes: values.notes } : {}),
        ...(values['allow-repeats'] || values['repeat-window']
          ? {
              options: {
                ...(values['allow-repeats'] ? { allowRepeats: true } : {}),
                ...(values['repeat-window'] ? { repeatWindow: values['repeat-window'] } : {}),
              },
            }
          : {}),
      },
      dayOfWeek: weekday,
      hour: Number(time[1]),
      minute: Number(time[2]),
      ...(values.timezone ? { timezone: values.timezone } : {}),
      paused: values.paused === true,
      ...(values.note ? { note: values.note } : {}),
    });
    const info = await client.describeSchedule(scheduleId);
    if (values.json) printJson(io, { ok: true, schedule: info });
    else
      io.stdout.write(
        `Created schedule ${scheduleId}: every ${weekday} at ${values.time ?? '09:00'} ${values.timezone ?? 'UTC'}` +
          `${info.paused ? ' (paused)' : ''}; next run ${info.nextActionTimes[0]?.toISOString() ?? 'none (paused)'}\n`,
      );
    return EXIT.ok;
  });
}

async function runList(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(listSpec, args, io);
  if (!parsed) return EXIT.ok;
  return withClient(io, async (client) => {
    const schedules = await client.listSchedules();
    if (parsed.values.json) printJson(io, { ok: true, schedules });
    else if (schedules.length === 0) io.stdout.write('No campaign schedules.\n');
    else
      io.stdout.write(
        table(['schedule', 'state', 'next run', 'last run', 'note'], schedules.map(scheduleLine)),
      );
    return EXIT.ok;
  });
}

function scheduleAction(
  verb: string,
  summary: string,
  act: (client: Parameters<Parameters<typeof withClient>[1]>[0], id: string) => Promise<string>,
): OperatorCommand {
  const spec = oneSchedule(verb, summary);
  return {
    summary,
    run: async (args, io) => {
      const parsed = parseCommand(spec, args, io);
      if (!parsed) return EXIT.ok;
      const scheduleId = parsed.positionals[0]!;
      return withClient(io, async (client) => {
        const message = await act(client, scheduleId);
        if (parsed.values.json) printJson(io, { ok: true, scheduleId, message });
        else io.stdout.write(`${message}\n`);
        return EXIT.ok;
      });
    },
  };
}

const scheduleCommands: Record<string, OperatorCommand> = {
  create: { summary: createSpec.summary, run: runCreate },
  list: { summary: listSpec.summary, run: runList },
  describe: {
    summary: 'Shows a schedule: timing, state, input, next and recent runs.',
    run: async (args, io) => {
      const spec = oneSchedule('describe', 'Shows a schedule: timing, state, input, next and recent runs.');
      const parsed = parseCommand(spec, args, io);
      if (!parsed) return EXIT.ok;
      const scheduleId = parsed.positionals[0]!;
      return withClient(io, async (client) => {
        const info = await client.describeSchedule(scheduleId);
        if (parsed.values.json) printJson(io, { ok: true, schedule: info });
        else
          io.stdout.write(
            [
              `Schedule ${scheduleId}: ${info.paused ? 'paused' : 'active'}${info.note ? ` (${info.note})` : ''}`,
              `Starts: ${info.workflowType ?? '?'} on ${JSON.stringify(info.calendars)} ${info.timezone ?? 'UTC'}`,
              `Input: ${JSON.stringify(info.input)}`,
              `Next runs: ${info.nextActionTimes.map((time) => time.toISOString()).join(', ') || 'none'}`,
              `Recent runs: ${info.recentActions.map((run) => `${run.scheduledAt.toISOString()} -> ${run.workflowId ?? '?'}`).join(', ') || 'none'}`,
            ].join('\n') + '\n',
          );
        return EXIT.ok;
      });
    },
  },
  pause: scheduleAction('pause', 'Pauses a schedule (no new runs until unpaused).', async (client, id) => {
    await client.pauseSchedule(id);
    return `Paused schedule ${id}.`;
  }),
  unpause: scheduleAction('unpause', 'Unpauses a schedule.', async (client, id) => {
    await client.unpauseSchedule(id);
    return `Unpaused schedule ${id}.`;
  }),
  trigger: scheduleAction('trigger', 'Starts a run of the schedule now.', async (client, id) => {
    await client.triggerSchedule(id);
    return `Triggered schedule ${id}; the run's campaign id is ${id}-<now, to the minute>.`;
  }),
  delete: scheduleAction('delete', 'Deletes a schedule (runs already started go on).', async (client, id) => {
    await client.deleteSchedule(id);
    return `Deleted schedule ${id}.`;
  }),
};

function scheduleUsage(): string {
  const lines = Object.entries(scheduleCommands).map(
    ([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`,
  );
  return `Usage: tango-campaigns schedule <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nEach command takes --help.\n`;
}

export async function runScheduleCli(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === '--help' || name === '-h') {
    io.stdout.write(scheduleUsage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = scheduleCommands[name];
  if (!command) throw usageError(`unknown schedule command "${name}"\n\n${scheduleUsage()}`);
  return command.run(rest, io);
}

// ---------------------------------------------------------------------------------------------
// setup
// ---------------------------------------------------------------------------------------------

const setupSpec = {
  usage: 'setup [--json]',
  summary:
    'Registers the campaign search attributes on the connected namespace (operator service). Safe to run again: attributes already there are left alone.',
  options: {},
  help: {},
  positionals: { min: 0, max: 0 },
  details:
    'Temporal Cloud namespaces take search attributes from the Cloud UI or `tcld` instead; this command says so when the server refuses.',
} satisfies CommandSpec<Record<string, never>>;

// temporal.api.enums.v1.IndexedValueType numbers (the proto package is not a direct dependency).
const indexedType: Record<string, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

export async function runSetup(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(setupSpec, args, io);
  if (!parsed) return EXIT.ok;
  const config = loadCampaignClientConfig(io.env);
  let connection: Connection;
  try {
    connection = await Connection.connect(config.connection);
  } catch (error) {
    throw new TemporalUnavailableError(config.connection.address, error);
  }
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace: config.namespace });
    const known = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = allSearchAttributes.filter((key) => !known.has(key.name));
    if (missing.length > 0) {
      try {
        await connection.operatorService.addSearchAttributes({
          namespace: config.namespace,
          searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedType[key.type]!])),
        });
      } catch (error) {
        // Another `setup` may have added them meanwhile: that is fine.
        if (!/already exists/i.test(String((error as Error).message))) throw error;
      }
    }
    const result = {
      ok: true,
      namespace: config.namespace,
      added: missing.map((key) => key.name),
      alreadyRegistered: allSearchAttributes.filter((key) => known.has(key.name)).map((key) => key.name),
    };
    if (parsed.values.json) printJson(io, result);
    else
      io.stdout.write(
        `Namespace ${config.namespace}: ${result.added.length} search attribute(s) added` +
          `${result.added.length ? ` (${result.added.join(', ')})` : ''}, ${result.alreadyRegistered.length} already registered.\n`,
      );
    return EXIT.ok;
  } catch (error) {
    if (/UNAVAILABLE|ECONNREFUSED|connect/i.test(String((error as Error).message)))
      throw new TemporalUnavailableError(config.connection.address, error);
    throw error;
  } finally {
    await connection.close();
  }
}

export { helpText };

// `tango-campaigns dev` (`npm start`): brings up the local stack, runs a sample campaign with a
// progress bar, prints where to look (Temporal UI, report), and keeps running until Ctrl-C.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Env } from '../config.ts';
import { campaignWorkflowId, progressQuery } from '../definitions.ts';
import { putJsonLines } from '../store/json.ts';
import { reportCsvKey, reportJsonKey } from '../store/keys.ts';
import type { CampaignStore } from '../store/store.ts';
import { LOCAL_SIMULATOR_DEFAULTS } from '../tango/config.ts';
import type { CampaignProgress, CampaignResult } from '../workflows/types.ts';
import { newSampleCampaignId, sampleCampaignInput, sampleInputKey, sampleLineItems } from './sample.ts';
import { DEFAULT_DEV_PORTS, type DevPorts, type DevStack, PORT_SETTINGS, startDevStack } from './stack.ts';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

const usage = `Usage: tango-campaigns dev [options]     (npm start)

Starts the local stack (Temporal dev server with Web UI, Tango simulator, codec server, webhook
receiver, worker), runs a sample campaign and keeps everything running until Ctrl+C.

  --sample-items <n>          items in the sample campaign (default 3000; 0 = no sample)
  --correction-window <d>     how long items needing a person wait before being given up (default 20s)
  --data-dir <dir>            Temporal database, store, dev codec key and logs (default .data)
  --temporal-port <n>         Temporal gRPC (default 7233; env DEV_TEMPORAL_PORT)
  --ui-port <n>               Temporal Web UI (default 8233; env DEV_UI_PORT)
  --simulator-port <n>        Tango simulator (default 8790; env DEV_SIMULATOR_PORT)
  --webhook-port <n>          webhook receiver (default 8787; env WEBHOOK_PORT)
  --codec-port <n>            codec server (default 8888; env CODEC_SERVER_PORT)
  -h, --help                  show this help
`;

export interface DevCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (progress bar redrawn in place) or a log (a line every few seconds). */
  isTty: boolean;
  /** Resolves when the stack should stop (SIGINT / SIGTERM by default). */
  stopSignal: () => Promise<string>;
}

function port(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535)
    throw new Error(`${name} must be a port number (1-65535), got '${value}'`);
  return parsed;
}

export interface DevArgs {
  sampleItems: number;
  correctionWindow: string;
  dataDir: string;
  ports: DevPorts;
}

export function parseDevArgs(args: string[], env: Env, cwd: string = process.cwd()): DevArgs | 'help' {
  const { values } = parseArgs({
    args,
    options: {
      'sample-items': { type: 'string' },
      'correction-window': { type: 'string' },
      'data-dir': { type: 'string' },
      'temporal-port': { type: 'string' },
      'ui-port': { type: 'string' },
      'simulator-port': { type: 'string' },
      'webhook-port': { type: 'string' },
      'codec-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  const sampleItems = Number(values['sample-items'] ?? 3000);
  if (!Number.isInteger(sampleItems) || sampleItems < 0 || sampleItems > 1_000_000)
    throw new Error(
      `--sample-items must be a whole number from 0 to 1000000, got '${values['sample-items']}'`,
    );
  const correctionWindow = values['correction-window'] ?? '20s';
  if (!/^\d+(ms|s|m|h|d)$/.test(correctionWindow))
    throw new Error(`--correction-window must be a duration such as 20s or 5m, got '${correctionWindow}'`);
  const ports: DevPorts = { ...DEFAULT_DEV_PORTS };
  for (const role of Object.keys(ports) as (keyof DevPorts)[]) {
    const { flag, variable } = PORT_SETTINGS[role];
    const fromFlag = values[flag.slice(2) as 'temporal-port'];
    ports[role] =
      fromFlag !== undefined ? port(flag, fromFlag, ports[role]) : port(variable, env[variable], ports[role]);
  }
  const taken = new Map<number, string>();
  for (const [role, value] of Object.entries(ports)) {
    const other = taken.get(value);
    if (other) throw new Error(`${role} and ${other} are both set to port ${value}: give each its own port`);
    taken.set(value, role);
  }
  return {
    sampleItems,
    correctionWindow,
    dataDir: path.resolve(cwd, values['data-dir'] ?? '.data'),
    ports,
  };
}

/** `[########------------]  42%` plus the counts an operator cares about. */
export function progressLine(progress: CampaignProgress, width = 30): string {
  const { counts, orders } = progress;
  const settled = counts.delivered + counts.givenUp + counts.cancelled;
  const ratio = counts.total > 0 ? settled / counts.total : 0;
  const filled = Math.round(ratio * width);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
  const waiting = counts.awaitingCorrection + counts.awaitingFunds;
  return (
    `${bar}  ${progress.status}  delivered ${counts.delivered}/${counts.total}  given up ${counts.givenUp}` +
    `  auto-fixed ${counts.autoFixed}  waiting ${waiting}  orders ${orders.finished}/${orders.total}  round ${progress.rounds}`
  );
}

function reportLocation(store: CampaignStore, key: string): string {
  return store.location.startsWith('file:')
    ? path.join(fileURLToPath(store.location), key)
    : `${store.location.replace(/\/$/, '')}/${key}`;
}

async function runSample(
  stack: DevStack,
  args: DevArgs,
  io: DevCliIo,
  stopping: Promise<string>,
): Promise<'done' | 'stopped'> {
  const campaignId = newSampleCampaignId();
  const items = sampleLineItems(args.sampleItems);
  const store = stack.worker.store;
  await putJsonLines(store, sampleInputKey(campaignId), items);
  const input = sampleCampaignInput({
    campaignId,
    customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
    accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
    correctionWindow: args.correctionWindow,
  });
  const workflowId = campaignWorkflowId(campaignId);
  const handle = await stack.client.workflow.start('campaignWorkflow', {
    taskQueue: stack.config.temporal.taskQueue,
    workflowId,
    args: [input],
  });
  const uiLink = `${stack.temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;
  io.stdout(`\nSample campaign ${campaignId}: ${items.length} items\n  Temporal UI: ${uiLink}\n\n`);

  let finished = false;
  let last: CampaignProgress | undefined;
  const result = handle.result() as Promise<CampaignResult>;
  const watch = (async () => {
    let lastPrinted = 0;
    while (!finished) {
      try {
        last = await handle.query(progressQuery);
        const line = progressLine(last);
        if (io.isTty) io.stdout(`\r${line}\x1b[K`);
        else if (Date.now() - lastPrinted > 5000) {
          io.stdout(`${line}\n`);
          lastPrinted = Date.now();
        }
      } catch {
        // The first queries can come before the workflow's first task; the next poll will do.
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  const outcome = await Promise.race([result.then((value) => ({ value })), stopping.then(() => undefined)]);
  finished = true;
  await watch;
  if (!outcome) {
    io.stdout(
      `\n\nStopping before the sample finished; the campaign continues when the stack starts again (same --data-dir).\n`,
    );
    return 'stopped';
  }
  const { value } = outcome;
  if (io.isTty) io.stdout('\n');
  const { counts } = value;
  // The live progress counts automatic fixes as they happen; the result may not carry them.
  const autoFixed = Math.max(counts.autoFixed, last?.counts.autoFixed ?? 0);
  io.stdout(
    [
      '',
      `Campaign ${campaignId} ${value.status}: ${counts.delivered} delivered, ${counts.givenUp} given up, ` +
        `${counts.cancelled} cancelled of ${counts.total} (${autoFixed} fixed automatically, ${value.orders} orders, ${value.rounds} rounds)`,
      `  Temporal UI: ${uiLink}`,
      `  Report: ${reportLocation(store, reportJsonKey(campaignId))}`,
      `          ${reportLocation(store, reportCsvKey(campaignId))}`,
      '',
    ].join('\n'),
  );
  return 'done';
}

export async function runDevCli(args: string[], env: Env, io: DevCliIo = defaultIo()): Promise<number> {
  let parsed: DevArgs | 'help';
  try {
    parsed = parseDevArgs(args, env);
  } catch (error) {
    io.stderr(`tango-campaigns dev: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout(usage);
    return 0;
  }
  const devArgs = parsed;
  // Listen for Ctrl-C from the start, so an interrupted start-up still stops what it started.
  const stopping = io.stopSignal();
  io.stdout('Starting the local stack:\n');
  let stack: DevStack;
  try {
    stack = await startDevStack({
      projectRoot,
      dataDir: devArgs.dataDir,
      ports: devArgs.ports,
      env,
      onStep: (message) => io.stdout(`  - ${message}\n`),
    });
  } catch (error) {
    io.stderr(`\ntango-campaigns dev: could not start the stack: ${(error as Error).message}\n`);
    return 1;
  }
  io.stdout(
    [
      '',
      `Temporal UI     ${stack.temporal.uiUrl}  (payloads decoded by the codec server at ${stack.codecServer.url})`,
      `Temporal        ${stack.temporal.address}, namespace default, task queue ${stack.config.temporal.taskQueue}`,
      `Tango simulator ${stack.simulator.baseUrl}  (admin ${stack.simulator.adminUrl})`,
      `Webhooks        ${stack.webhook.url}`,
      `Store           ${stack.worker.store.location}`,
      `Logs            ${stack.logs.stack}, ${stack.logs.temporal}`,
      ...(stack.codecKeyFile
        ? [
            `Codec key       ${stack.codecKeyFile} (generated for this machine; set CODEC_KEYS to use your own)`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  let code = 0;
  try {
    if (devArgs.sampleItems > 0) await runSample(stack, devArgs, io, stopping);
  } catch (error) {
    io.stderr(`\ntango-campaigns dev: the sample campaign failed: ${(error as Error).message}\n`);
    code = 1;
  }
  io.stdout('\nThe stack keeps running. Press Ctrl+C to stop.\n');
  const signal = await stopping;
  io.stdout(`\n${signal}: stopping the worker, webhook receiver, simulator, codec server and Temporal...\n`);
  await stack.stop();
  io.stdout('Stopped.\n');
  return code;
}

function defaultIo(): DevCliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTty: process.stdout.isTTY === true,
    stopSignal: () =>
      new Promise((resolve) => {
        const stop = (signal: string) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(signal);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
  };
}

// The `tango-campaigns` command line: one entry, one subcommand per job. Operator commands take their
// streams and environment as arguments (tests run them in-process); the process entry passes the real ones.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { campaignCommands } from './campaign-commands.ts';
import { type CliIo, EXIT, reportError } from './context.ts';
import { reconcileCommand } from './reconcile-command.ts';
import { runScheduleCli, runSetup } from './schedule-commands.ts';

interface Command {
  summary: string;
  run?: (args: string[], io: CliIo) => Promise<number>;
}

const commands: Record<string, Command> = {
  ...campaignCommands,
  reconcile: reconcileCommand,
  schedule: {
    summary: 'weekly campaign schedules: create, list, describe, pause, unpause, trigger, delete',
    run: runScheduleCli,
  },
  setup: { summary: 'register the search attributes on the connected namespace', run: runSetup },
  dev: {
    summary: 'start the whole local stack and run a sample campaign',
    run: async (args) => (await import('../dev/cli.ts')).runDevCli(args, process.env),
  },
  simulator: {
    summary: 'run the Tango simulator on loopback',
    run: async (args) => (await import('../simulator/cli.ts')).runSimulatorCli(args),
  },
  worker: {
    summary: 'run a campaign worker',
    run: async (args) => (await import('../worker.ts')).runWorkerCli(args, process.env),
  },
  webhook: {
    summary: 'run the Tango webhook receiver',
    run: async (args) => (await import('../webhook/cli.ts')).runWebhookCli(args),
  },
  'codec-server': {
    summary: 'serve the payload codec to the Temporal Web UI and CLI (decrypts CODEC_KEYS payloads)',
    run: async (args) => (await import('../codec/cli.ts')).runCodecServerCli(args),
  },
  'register-webhook': {
    summary: 'register the webhook receiver with Tango (POST /webhooks) and keep it renewed',
    run: async (args, io) => (await import('./register-webhook.ts')).runRegisterWebhook(args, io),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(16)} ${summary}`);
  return (
    `Usage: tango-campaigns <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n` +
    'Every command takes --help; most take --json. Exit codes: 0 ok, 1 invalid input or campaign failed,\n' +
    '2 usage or configuration error, 3 not found, 4 Temporal unreachable (docs/cli.md).\n'
  );
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`tango-campaigns: unknown command '${name}'\n\n${usage()}`);
    return EXIT.usage;
  }
  if (!command.run) {
    io.stderr.write(`tango-campaigns ${name}: not available yet in this version.\n`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportError(error, io, name, rest.includes('--json'));
  }
}

/** True when this module is the process entry (directly, or through the package bin). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  let resolved: string;
  try {
    resolved = realpathSync(script);
  } catch {
    return false;
  }
  return resolved === fileURLToPath(import.meta.url) || /[\\/]bin[\\/]tango-campaigns(\.js)?$/.test(resolved);
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));

// The `tango-campaigns` command line: one entry, one subcommand per job.
const commands: Record<string, { summary: string; run?: (args: string[]) => Promise<number> }> = {
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
  'register-webhook': {
    summary: 'register the webhook receiver with Tango (POST /webhooks)',
    run: async (args) => (await import('../webhook/cli.ts')).runRegisterWebhookCli(args),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(12)} ${summary}`);
  return `Usage: tango-campaigns <command> [options]\n\nCommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`tango-campaigns: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  if (!command.run) {
    process.stderr.write(`tango-campaigns ${name}: not available yet in this version.\n`);
    return 3;
  }
  return command.run(rest);
}

process.exitCode = await main(process.argv.slice(2));

// What every operator command shares: its input/output streams and environment (injected, so tests
// run commands in-process), argument parsing with --help, exit codes, and the lazily opened client.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CampaignClient, CampaignClientError, type ConnectedCampaignClient } from '../client/index.ts';
import { InputFileError } from '../input/line-items-file.ts';
import { ConfigError } from '../tango/config.ts';
import { StoreError } from '../store/store.ts';

/** Exit codes (docs/cli.md): scripts branch on them. */
export const EXIT = {
  ok: 0,
  /** Invalid input, a refused operation, or a campaign that did not complete. */
  failed: 1,
  /** Wrong command line or configuration. */
  usage: 2,
  notFound: 3,
  unreachable: 4,
} as const;

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  /** Working directory for relative paths (tests point it elsewhere). */
  cwd: string;
}

/** A failure the command already explained; `exitCode` says which kind. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

export interface CommandSpec<O extends NonNullable<ParseArgsConfig['options']>> {
  /** `tango-campaigns <usage>` line(s). */
  usage: string;
  summary: string;
  /** Extra lines after the options (examples, notes). */
  details?: string;
  options: O;
  /** Option descriptions for --help, by option name. */
  help: { [K in keyof O]?: string };
  positionals: { min: number; max?: number };
}

const commonOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type WithCommon<O> = O & typeof commonOptions;

export function helpText<O extends NonNullable<ParseArgsConfig['options']>>(spec: CommandSpec<O>): string {
  const lines = [`Usage: tango-campaigns ${spec.usage}`, '', spec.summary, ''];
  const entries = Object.entries(spec.options);
  if (entries.length > 0) {
    lines.push('Options:');
    for (const [name, option] of entries) {
      const flag = `--${name}${option.type === 'string' ? ' <value>' : ''}${option.multiple ? ' (repeatable)' : ''}`;
      lines.push(`  ${flag.padEnd(30)} ${spec.help[name as keyof O] ?? ''}`);
    }
  }
  lines.push(`  ${'--json'.padEnd(30)} machine-readable output on stdout`);
  lines.push(`  ${'-h, --help'.padEnd(30)} this help`);
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n') + '\n';
}

export type Parsed<O extends NonNullable<ParseArgsConfig['options']>> = ReturnType<
  typeof parseArgs<{ options: WithCommon<O>; allowPositionals: true; strict: true }>
>;

/** Parses a command's arguments; undefined when --help was asked (and printed). */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(
  spec: CommandSpec<O>,
  args: string[],
  io: CliIo,
): Parsed<O> | undefined {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({
      args,
      options: { ...spec.options, ...commonOptions } as WithCommon<O>,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError(`${(error as Error).message}\n\n${helpText(spec)}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(helpText(spec));
    return undefined;
  }
  const count = parsed.positionals.length;
  if (count < spec.positionals.min || (spec.positionals.max !== undefined && count > spec.positionals.max)) {
    throw usageError(
      `expected ${describeCount(spec.positionals)} argument(s), got ${count}\n\n${helpText(spec)}`,
    );
  }
  return parsed;
}

function describeCount({ min, max }: { min: number; max?: number }): string {
  if (max === undefined) return `at least ${min}`;
  return min === max ? String(min) : `${min}-${max}`;
}

export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value.trim() === '') throw usageError(`--${name} is required`);
  return value;
}

export function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number))
    throw usageError(`--${name} must be a number, got "${value}"`);
  return number;
}

/** The connected client, opened on first use and closed by `withClient`. */
export async function withClient<T>(io: CliIo, run: (client: CampaignClient) => Promise<T>): Promise<T> {
  const client: ConnectedCampaignClient = await CampaignClient.connect(io.env);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The exit code and message for an error that escaped a command. */
export function reportError(error: unknown, io: CliIo, command: string, json: boolean): number {
  const { exitCode, kind } = classify(error);
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ ok: false, error: { kind, message, ...(error instanceof InputFileError ? { problems: error.problems } : {}) } }, null, 2)}\n`,
    );
  }
  io.stderr.write(`tango-campaigns ${command}: ${message}\n`);
  return exitCode;
}

function classify(error: unknown): { exitCode: number; kind: string } {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, kind: error.exitCode === EXIT.usage ? 'usage' : 'failed' };
  if (error instanceof CampaignClientError) {
    switch (error.code) {
      case 'not-found':
        return { exitCode: EXIT.notFound, kind: error.code };
      case 'unavailable':
        return { exitCode: EXIT.unreachable, kind: error.code };
      case 'store-required':
        return { exitCode: EXIT.usage, kind: error.code };
      default:
        return { exitCode: EXIT.failed, kind: error.code };
    }
  }
  if (error instanceof InputFileError) return { exitCode: EXIT.failed, kind: 'invalid-input' };
  // A bare StoreError is a bad CAMPAIGN_STORE setting; its subclasses are data problems.
  if (error instanceof ConfigError || (error instanceof StoreError && error.constructor === StoreError))
    return { exitCode: EXIT.usage, kind: 'config' };
  return { exitCode: EXIT.failed, kind: 'error' };
}

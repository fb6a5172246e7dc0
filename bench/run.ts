// `npm run bench`: the plain-script baseline, the POST-only lower bound and the product (dev server,
// simulator, webhook receiver, worker in a child process) side by side at each campaign size; prints a
// table, writes bench/results/<timestamp>.json and the generated section of docs/benchmarks.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { resolveTemporalCli, startDevTemporalServer } from '../src/dev/temporal-server.ts';
import { startSimulator } from '../src/simulator/index.ts';
import { TangoClient } from '../src/tango/client.ts';
import { loadTangoConfig } from '../src/tango/config.ts';
import { workflowsPath } from '../src/worker-factory.ts';
import { runBaseline, runPostOnly, type ScriptRunOptions } from './baseline.ts';
import { TRANSIENT_EVERY } from './items.ts';
import { runProduct, type ProductOutcome } from './product.ts';
import { consoleReport, markdownSection } from './report.ts';
import { freePort, temporalCliVersion, updateDocs } from './common.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const ACCOUNT = { customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-1' };

export interface BenchOptions {
  sizes: number[];
  chunkSize: number;
  concurrency: number;
  resubmitDelayMs: number;
  maxRounds: number;
  /** Campaign size of the chunk-size comparison, and the chunk sizes compared. */
  compareItems: number;
  compareChunks: number[];
  resultsDir: string;
  /** docs/benchmarks.md to update, or undefined to leave the docs alone. */
  docsPath?: string;
  /** Write a V8 CPU profile of each worker into resultsDir/profiles-<stamp>/. */
  cpuProfile: boolean;
  command: string;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
}

export interface SizeResult {
  items: number;
  lowerBound: { wallMs: number; itemsPerSecond: number; orders: number; tangoRequests: number };
  baseline: {
    wallMs: number;
    itemsPerSecond: number;
    orders: number;
    rounds: number;
    delivered: number;
    givenUp: number;
    polls: number;
    tangoRequests: number;
  };
  product: ProductOutcome & { itemsPerSecond: number; eventsPerOrder: number; bytesPerOrder: number };
  ratioToBaseline: number;
  ratioToLowerBound: number;
}

export interface ChunkComparisonEntry {
  items: number;
  chunkSize: number;
  orders: number;
  wallMs: number;
  eventsPerOrder: number;
  bytesPerOrder: number;
  orderEvents: number;
  orderBytes: number;
}

export interface TargetVerdict {
  target: string;
  measured: string;
  verdict: 'met' | 'missed' | 'not measured';
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: {
    cpu: string;
    cores: number;
    memoryBytes: number;
    os: string;
    node: string;
    temporalCli: string;
  };
  settings: {
    chunkSize: number;
    concurrency: number;
    resubmitDelayMs: number;
    maxRounds: number;
    transientEvery: number;
    simulatorProcessingDelayMs: number;
  };
  sizes: SizeResult[];
  chunkComparison: ChunkComparisonEntry[];
  targets: TargetVerdict[];
  cpuProfiles?: string;
}

/** A script run (baseline or lower bound) on its own fresh simulator, so that its requests are its own. */
async function onFreshSimulator<T>(
  run: (tango: TangoClient) => Promise<T>,
): Promise<{ value: T; requests: number }> {
  const simulator = await startSimulator({ processingDelayMs: 0 });
  try {
    const tango = new TangoClient(
      loadTangoConfig({ TANGO_BASE_URL: simulator.baseUrl, TANGO_TIMEOUT_MS: '30000' }),
    );
    const value = await run(tango);
    return { value, requests: simulator.stats().totalRequests };
  } finally {
    await simulator.close();
  }
}

function verdicts(sizes: SizeResult[], chunks: ChunkComparisonEntry[]): TargetVerdict[] {
  const targets: TargetVerdict[] = [];
  const at100k = sizes.find((size) => size.items === 100_000) ?? sizes.at(-1);
  targets.push(
    at100k
      ? {
          target: 'wall time within 1.3x of the baseline at 100,000 items',
          measured: `${at100k.ratioToBaseline.toFixed(2)}x at ${at100k.items.toLocaleString('en-US')} items`,
          verdict:
            at100k.items === 100_000 ? (at100k.ratioToBaseline <= 1.3 ? 'met' : 'missed') : 'not measured',
        }
      : {
          target: 'wall time within 1.3x of the baseline at 100,000 items',
          measured: '-',
          verdict: 'not measured',
        },
  );
  const from = sizes.find((size) => size.items === 10_000);
  const to = [...sizes].reverse().find((size) => size.items > 10_000);
  const rss = (size: SizeResult | undefined) => size?.product.workerPeakRssBytes ?? null;
  const rssFrom = rss(from);
  const rssTo = rss(to);
  if (rssFrom !== null && rssTo !== null && to) {
    const growth = rssTo / rssFrom - 1;
    targets.push({
      target: 'worker peak RSS flat (within 20%) from 10,000 to 1,000,000 items',
      measured: `${(rssFrom / 2 ** 20).toFixed(0)} MB at 10,000 -> ${(rssTo / 2 ** 20).toFixed(0)} MB at ${to.items.toLocaleString('en-US')} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)}%)`,
      verdict:
        to.items < 1_000_000
          ? Math.abs(growth) <= 0.2
            ? 'not measured'
            : 'missed'
          : Math.abs(growth) <= 0.2
            ? 'met'
            : 'missed',
    });
  } else {
    targets.push({
      target: 'worker peak RSS flat (within 20%) from 10,000 to 1,000,000 items',
      measured: 'needs sizes 10,000 and larger',
      verdict: 'not measured',
    });
  }
  if (chunks.length >= 2) {
    const perOrder = chunks.map((entry) => entry.eventsPerOrder);
    const bytes = chunks.map((entry) => entry.bytesPerOrder);
    const spread = (values: number[]) => Math.max(...values) / Math.min(...values) - 1;
    targets.push({
      target: 'history events and bytes per order independent of items per order',
      measured:
        `events/order ${perOrder.map((value) => value.toFixed(1)).join(', ')}; bytes/order ${bytes.map((value) => Math.round(value)).join(', ')} ` +
        `for chunks of ${chunks.map((entry) => entry.chunkSize).join(', ')} (spread ${(spread(perOrder) * 100).toFixed(0)}% / ${(spread(bytes) * 100).toFixed(0)}%)`,
      verdict: spread(perOrder) <= 0.1 && spread(bytes) <= 0.1 ? 'met' : 'missed',
    });
  }
  const wakes = sizes
    .map((size) => size.product.webhookToWake.p50Ms)
    .filter((value): value is number => value !== null);
  targets.push({
    target: 'webhook -> workflow wake latency p50 under 50 ms on loopback',
    measured: sizes
      .map(
        (size) =>
          `${size.product.webhookToWake.p50Ms?.toFixed(0) ?? 'n/a'} ms at ${size.items.toLocaleString('en-US')}`,
      )
      .join(', '),
    verdict: wakes.length === 0 ? 'not measured' : wakes.every((value) => value < 50) ? 'met' : 'missed',
  });
  return targets;
}

export async function runBenchmark(
  options: BenchOptions,
): Promise<{ results: BenchResults; jsonPath: string }> {
  const startedAt = new Date().toISOString();
  const stamp = startedAt.replace(/[:.]/g, '-');
  const work = mkdtempSync(path.join(os.tmpdir(), 'tango-bench-'));
  const cli = resolveTemporalCli(projectRoot, options.env);
  const server = await startDevTemporalServer({
    cli,
    dbFilename: path.join(work, 'temporal.db'),
    port: await freePort(),
    uiPort: await freePort(),
    logFile: path.join(work, 'temporal.log'),
  });
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection, namespace: 'default' });
    options.log('bundling the workflow code once for every worker ...');
    const bundle = await bundleWorkflowCode({ workflowsPath, logger: silentBundlerLogger });
    const bundlePath = path.join(work, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    const cpuProfileDir = options.cpuProfile ? path.join(options.resultsDir, `profiles-${stamp}`) : undefined;
    if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
    const productEnv = {
      temporalAddress: server.address,
      temporalPid: server.pid,
      client,
      bundlePath,
      cpuProfileDir,
    };

    const script = (runTag: string, items: number, chunkSize: number): Omit<ScriptRunOptions, 'tango'> => ({
      runTag,
      items,
      chunkSize,
      concurrency: options.concurrency,
      resubmitDelayMs: options.resubmitDelayMs,
      maxRounds: options.maxRounds,
      ...ACCOUNT,
    });
    const product = async (runTag: string, items: number, chunkSize: number) => {
      const outcome = await runProduct(productEnv, {
        runTag,
        items,
        chunkSize,
        concurrency: options.concurrency,
        resubmitDelayMs: options.resubmitDelayMs,
        maxRounds: options.maxRounds,
        ...ACCOUNT,
      });
      if (outcome.status !== 'completed' || outcome.delivered !== items || outcome.duplicatesInLedger !== 0) {
        throw new Error(
          `the product run of ${items} items did not deliver every item exactly once (status ${outcome.status}, ` +
            `${outcome.delivered} delivered, ${outcome.givenUp} given up, ${outcome.duplicatesInLedger} duplicates): ` +
            'its figures would not be comparable',
        );
      }
      return outcome;
    };

    const sizes: SizeResult[] = [];
    for (const items of options.sizes) {
      const tag = `${stamp.slice(11, 19)}-${items}`;
      options.log(`${items} items: lower bound (POST only) ...`);
      const lower = await onFreshSimulator((tango) =>
        runPostOnly({ tango, ...script(`lb-${tag}`, items, options.chunkSize) }),
      );
      options.log(`${items} items: baseline script ...`);
      const base = await onFreshSimulator((tango) =>
        runBaseline({ tango, ...script(`bl-${tag}`, items, options.chunkSize) }),
      );
      if (base.value.delivered !== items) {
        throw new Error(
          `the baseline delivered ${base.value.delivered} of ${items} items: its figures would not be comparable`,
        );
      }
      options.log(`${items} items: product (Temporal worker) ...`);
      const outcome = await product(`p-${tag}`, items, options.chunkSize);
      sizes.push({
        items,
        lowerBound: {
          wallMs: lower.value.wallMs,
          itemsPerSecond: items / (lower.value.wallMs / 1000),
          orders: lower.value.orders,
          tangoRequests: lower.requests,
        },
        baseline: {
          ...base.value,
          itemsPerSecond: items / (base.value.wallMs / 1000),
          tangoRequests: base.requests,
        },
        product: {
          ...outcome,
          itemsPerSecond: items / (outcome.wallMs / 1000),
          eventsPerOrder: outcome.history.orderEvents / outcome.orders,
          bytesPerOrder: outcome.history.orderBytes / outcome.orders,
        },
        ratioToBaseline: outcome.wallMs / base.value.wallMs,
        ratioToLowerBound: outcome.wallMs / lower.value.wallMs,
      });
      options.log(
        `  -> product ${(outcome.wallMs / 1000).toFixed(2)} s, baseline ${(base.value.wallMs / 1000).toFixed(2)} s, lower bound ${(lower.value.wallMs / 1000).toFixed(2)} s`,
      );
    }

    const chunkComparison: ChunkComparisonEntry[] = [];
    for (const chunkSize of options.compareChunks) {
      options.log(`chunk comparison: ${options.compareItems} items in chunks of ${chunkSize} ...`);
      const outcome = await product(`c-${stamp.slice(11, 19)}-${chunkSize}`, options.compareItems, chunkSize);
      chunkComparison.push({
        items: options.compareItems,
        chunkSize,
        orders: outcome.orders,
        wallMs: outcome.wallMs,
        eventsPerOrder: outcome.history.orderEvents / outcome.orders,
        bytesPerOrder: outcome.history.orderBytes / outcome.orders,
        orderEvents: outcome.history.orderEvents,
        orderBytes: outcome.history.orderBytes,
      });
    }

    const results: BenchResults = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: options.command,
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        memoryBytes: os.totalmem(),
        os: `${os.type()} ${os.release()}`,
        node: process.version,
        temporalCli: temporalCliVersion(cli),
      },
      settings: {
        chunkSize: options.chunkSize,
        concurrency: options.concurrency,
        resubmitDelayMs: options.resubmitDelayMs,
        maxRounds: options.maxRounds,
        transientEvery: TRANSIENT_EVERY,
        simulatorProcessingDelayMs: 0,
      },
      sizes,
      chunkComparison,
      targets: verdicts(sizes, chunkComparison),
      ...(cpuProfileDir ? { cpuProfiles: path.relative(projectRoot, cpuProfileDir) } : {}),
    };
    mkdirSync(options.resultsDir, { recursive: true });
    const jsonPath = path.join(options.resultsDir, `${stamp}.json`);
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    if (options.docsPath)
      updateDocs(options.docsPath, markdownSection(results, path.relative(projectRoot, jsonPath)));
    return { results, jsonPath };
  } finally {
    await connection?.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

const silentBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string) {
    console.error(message);
  },
  log() {},
};

function numberList(flag: string, value: string | undefined): number[] {
  const numbers = (value ?? '').split(',').map((part) => Number(part.replace(/_/g, '').trim()));
  if (numbers.length === 0 || numbers.some((number) => !Number.isInteger(number) || number < 1)) {
    throw new Error(
      `${flag} takes positive whole numbers separated by commas, e.g. ${flag} 1000,10000 (got "${value ?? ''}")`,
    );
  }
  return numbers;
}

export function parseBenchArgs(args: string[]): Omit<BenchOptions, 'env' | 'log' | 'command'> {
  const options: Omit<BenchOptions, 'env' | 'log' | 'command'> = {
    sizes: [1_000, 10_000, 100_000],
    chunkSize: 500,
    concurrency: 8,
    resubmitDelayMs: 0, // both sides resubmit at once: the comparison measures orchestration, not a chosen pause
    maxRounds: 5,
    compareItems: 10_000,
    compareChunks: [100, 500, 1000],
    resultsDir: path.join(projectRoot, 'bench', 'results'),
    docsPath: path.join(projectRoot, 'docs', 'benchmarks.md'),
    cpuProfile: false,
  };
  for (let index = 0; index < args.length; index += 1) {
    const flag = args[index]!;
    const value = () => {
      const next = args[index + 1];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      index += 1;
      return next;
    };
    switch (flag) {
      case '--sizes':
        options.sizes = numberList(flag, value());
        break;
      case '--chunk':
        options.chunkSize = numberList(flag, value())[0]!;
        break;
      case '--concurrency':
        options.concurrency = numberList(flag, value())[0]!;
        break;
      case '--compare-items':
        options.compareItems = numberList(flag, value())[0]!;
        break;
      case '--compare-chunks':
        options.compareChunks = numberList(flag, value());
        break;
      case '--results-dir':
        options.resultsDir = path.resolve(value());
        break;
      case '--no-docs':
        delete options.docsPath;
        break;
      case '--cpu-prof':
        options.cpuProfile = true;
        break;
      default:
        throw new Error(
          `unknown option ${flag}; use --sizes 1000,10000 --chunk 500 --concurrency 8 --compare-items 10000 ` +
            '--compare-chunks 100,500,1000 --results-dir DIR --no-docs --cpu-prof',
        );
    }
  }
  return options;
}

const isEntry = Boolean(process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url));
if (isEntry && process.argv.includes('--rate-limited')) {
  // The rate-limited mode (bench/rate-limited.ts) has its own flags.
  const { rateLimitedMain } = await import('./rate-limited.ts');
  await rateLimitedMain(process.argv.slice(2));
} else if (isEntry) {
  const args = process.argv.slice(2);
  try {
    const parsed = parseBenchArgs(args);
    const { results, jsonPath } = await runBenchmark({
      ...parsed,
      command: ['npm run bench', ...(args.length > 0 ? ['--', ...args] : [])].join(' '),
      env: process.env,
      log: (line) => console.error(line),
    });
    console.log(consoleReport(results));
    console.log(
      `\nresults: ${path.relative(process.cwd(), jsonPath)}${parsed.docsPath ? `; table in ${path.relative(process.cwd(), parsed.docsPath)}` : ''}`,
    );
  } catch (error) {
    console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  }
}

// Formats benchmark results: the console table, the Markdown section of docs/benchmarks.md, and the
// verdict on each target, computed from the figures (never written by hand).
import type { BenchResults, SizeResult } from './run.ts';

const fmtInt = (value: number) => Math.round(value).toLocaleString('en-US');
const fmtSec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const fmtMb = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
const fmtMs = (ms: number | null) => (ms === null ? 'n/a' : `${ms.toFixed(0)} ms`);
const fmtKb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function sizeTable(results: SizeResult[]): string {
  const lines = [
    row([
      'items',
      'lower bound (POST only)',
      'baseline script',
      'product',
      'product items/s',
      'vs baseline',
      'vs lower bound',
      'worker peak RSS',
      'history events',
      'history bytes',
      'Tango requests (product / baseline)',
      'wake p50 / p99',
    ]),
    row(Array.from({ length: 12 }, () => '---')),
  ];
  for (const result of results) {
    const { product, baseline, lowerBound } = result;
    lines.push(
      row([
        fmtInt(result.items),
        `${fmtSec(lowerBound.wallMs)} (${fmtInt(lowerBound.itemsPerSecond)}/s)`,
        `${fmtSec(baseline.wallMs)} (${fmtInt(baseline.itemsPerSecond)}/s)`,
        fmtSec(product.wallMs),
        fmtInt(product.itemsPerSecond),
        `${result.ratioToBaseline.toFixed(2)}x`,
        `${result.ratioToLowerBound.toFixed(2)}x`,
        fmtMb(product.workerPeakRssBytes),
        fmtInt(product.history.events),
        fmtKb(product.history.bytes),
        `${fmtInt(product.tangoRequests.total)} / ${fmtInt(baseline.tangoRequests)}`,
        `${fmtMs(product.webhookToWake.p50Ms)} / ${fmtMs(product.webhookToWake.p99Ms)}`,
      ]),
    );
  }
  return lines.join('\n');
}

export function detailTable(results: SizeResult[]): string {
  const lines = [
    row([
      'items',
      'orders',
      'delivered',
      'ledger duplicates',
      'events per order',
      'bytes per order',
      'campaign events (runs)',
      'publish -> signal p50 / p99',
      'CPU s: worker / bench process / Temporal server',
    ]),
    row(Array.from({ length: 9 }, () => '---')),
  ];
  for (const { items, product } of results) {
    lines.push(
      row([
        fmtInt(items),
        fmtInt(product.orders),
        fmtInt(product.delivered),
        String(product.duplicatesInLedger),
        product.eventsPerOrder.toFixed(1),
        fmtInt(product.bytesPerOrder),
        `${fmtInt(product.history.campaignEvents)} (${product.history.runs - product.orders})`,
        `${fmtMs(product.webhookToSignal.p50Ms)} / ${fmtMs(product.webhookToSignal.p99Ms)}`,
        [product.workerCpuSeconds, product.benchProcessCpuSeconds, product.temporalServerCpuSeconds]
          .map((value) => (value === null ? 'n/a' : value.toFixed(1)))
          .join(' / '),
      ]),
    );
  }
  return lines.join('\n');
}

export function chunkTable(results: BenchResults['chunkComparison']): string {
  const lines = [
    row(['items', 'chunk size', 'orders', 'events per order', 'bytes per order', 'wall time']),
    row(Array.from({ length: 6 }, () => '---')),
  ];
  for (const entry of results) {
    lines.push(
      row([
        fmtInt(entry.items),
        fmtInt(entry.chunkSize),
        fmtInt(entry.orders),
        entry.eventsPerOrder.toFixed(1),
        fmtInt(entry.bytesPerOrder),
        fmtSec(entry.wallMs),
      ]),
    );
  }
  return lines.join('\n');
}

export function targetsTable(results: BenchResults): string {
  const lines = [row(['target', 'measured', 'verdict']), row(['---', '---', '---'])];
  for (const target of results.targets) lines.push(row([target.target, target.measured, target.verdict]));
  return lines.join('\n');
}

export function consoleReport(results: BenchResults): string {
  return [
    `Benchmark ${results.startedAt} on ${results.machine.cpu} (${results.machine.cores} cores), ${results.command}`,
    '',
    sizeTable(results.sizes),
    '',
    detailTable(results.sizes),
    '',
    chunkTable(results.chunkComparison),
    '',
    ...(results.sizes.at(-1) ? [stepsTable(results.sizes.at(-1)!), ''] : []),
    targetsTable(results),
  ].join('\n');
}

/** The generated part of docs/benchmarks.md (between the markers). */
export function markdownSection(results: BenchResults, jsonPath: string): string {
  const { machine } = results;
  return [
    `Run of ${results.startedAt.slice(0, 10)} (\`${results.command}\`), raw figures in \`${jsonPath}\`.`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GB RAM, ` +
      `${machine.os}, Node.js ${machine.node}, Temporal CLI dev server (${machine.temporalCli}). ` +
      `Settings: chunk ${results.settings.chunkSize} items per order, ${results.settings.concurrency} orders at once, ` +
      `resubmit delay ${results.settings.resubmitDelayMs} ms, 1 item in ${results.settings.transientEvery} transient.`,
    '',
    '### Wall time, memory, history, requests, wake latency',
    '',
    sizeTable(results.sizes),
    '',
    detailTable(results.sizes),
    '',
    `### History does not depend on items per order (${fmtInt(results.chunkComparison[0]?.items ?? 0)} items)`,
    '',
    chunkTable(results.chunkComparison),
    '',
    ...(results.sizes.at(-1)
      ? [
          `### Where an order's time goes (${fmtInt(results.sizes.at(-1)!.items)} items, from the order histories)`,
          '',
          stepsTable(results.sizes.at(-1)!),
          '',
        ]
      : []),
    '### Targets',
    '',
    targetsTable(results),
  ].join('\n');
}

/** Where the order workflows' time went at one size (from their histories). */
export function stepsTable(result: SizeResult): string {
  const lines = [
    row(['step (order workflows)', 'count', 'avg queued', 'avg running', 'total queued + running']),
    row(Array.from({ length: 5 }, () => '---')),
  ];
  const steps = Object.entries(result.product.orderSteps).sort(
    ([, a], [, b]) => b.queuedMs + b.runningMs - (a.queuedMs + a.runningMs),
  );
  for (const [name, step] of steps) {
    lines.push(
      row([
        name,
        fmtInt(step.count),
        `${(step.queuedMs / step.count).toFixed(1)} ms`,
        `${(step.runningMs / step.count).toFixed(1)} ms`,
        fmtSec(step.queuedMs + step.runningMs),
      ]),
    );
  }
  return lines.join('\n');
}

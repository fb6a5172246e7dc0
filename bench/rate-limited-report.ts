// Formats the rate-limited benchmark: the side-by-side table, the order-size table, the targets
// (computed from the figures, never written by hand), for the console and docs/benchmarks.md.
import type { RateLimitedResults, SideResult } from './rate-limited.ts';

const fmtInt = (value: number) => Math.round(value).toLocaleString('en-US');
const fmtSec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmtRatio = (value: number) => `${value.toFixed(2)}x`;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const rule = (count: number) => row(Array.from({ length: count }, () => '---'));

function runName(side: SideResult): string {
  return side.side === 'script'
    ? 'plain script (paced)'
    : `product, ${side.workers} worker${side.workers === 1 ? '' : 's'}`;
}

export function sideBySideTable(results: RateLimitedResults): string {
  const header = [
    'run',
    'wall time',
    'vs script',
    'start to first request',
    'POST',
    'GET status',
    'GET pages',
    'lookups by id',
    'balance / catalog',
    'webhooks',
    'OAuth',
    'answered 429',
    'before Retry-After (same order / any)',
    'peak req/s',
    'requests',
    'minimum (own)',
    'vs minimum',
    'vs ideal',
    'orders (rounds)',
    'delivered',
  ];
  const lines = [row(header), rule(header.length)];
  for (const side of [results.script, ...results.product]) {
    const r = side.requests;
    lines.push(
      row([
        runName(side),
        fmtSec(side.wallMs),
        fmtRatio(side.wallMs / results.script.wallMs),
        side.product && Number.isFinite(side.product.firstRequestMs)
          ? `${fmtInt(side.product.firstRequestMs)} ms`
          : side.side === 'script'
            ? `${fmtInt(side.requests.timeline[0]?.at ?? 0)} ms`
            : 'n/a',
        fmtInt(r.byRoute['POST order']),
        fmtInt(r.byRoute['GET status']),
        fmtInt(r.byRoute['GET page']),
        fmtInt(r.byRoute['GET lookup by id']),
        `${r.byRoute['GET balance']} / ${r.byRoute['GET catalog']}`,
        fmtInt(r.byRoute.webhooks),
        fmtInt(r.byRoute['OAuth token']),
        fmtInt(r.rateLimited),
        `${r.retryAfterViolations} / ${r.sentDuringRetryAfter}`,
        String(r.peakPerSecond),
        fmtInt(r.counted),
        fmtInt(r.minimum),
        fmtRatio(side.ratioToMinimum),
        fmtRatio(side.ratioToIdeal),
        `${r.orders.length} (${side.rounds})`,
        side.status === 'completed' ? fmtInt(side.delivered) : `${fmtInt(side.delivered)} (${side.status})`,
      ]),
    );
  }
  return lines.join('\n');
}

export function orderSizeTable(results: RateLimitedResults): string {
  const header = [
    'items per order',
    'campaign',
    'orders script / product',
    'blast radius (items in the largest order)',
    'script: requests / minimum',
    'script wall time',
    'product (1 worker): requests / minimum',
    'product wall time',
    'product answered 429',
    'product vs script',
  ];
  const lines = [row(header), rule(header.length)];
  for (const entry of results.orderSizes) {
    const { script, product } = entry;
    lines.push(
      row([
        fmtInt(entry.chunkSize),
        fmtInt(entry.items),
        `${script.requests.orders.length} / ${product.requests.orders.length}`,
        fmtInt(Math.max(script.largestOrder, product.largestOrder)),
        `${fmtInt(script.requests.counted)} / ${fmtInt(script.requests.minimum)}`,
        fmtSec(script.wallMs),
        `${fmtInt(product.requests.counted)} / ${fmtInt(product.requests.minimum)}`,
        product.status === 'completed'
          ? fmtSec(product.wallMs)
          : `${fmtSec(product.wallMs)} (${product.status})`,
        fmtInt(product.requests.rateLimited),
        fmtRatio(product.wallMs / script.wallMs),
      ]),
    );
  }
  return lines.join('\n');
}

export function rateLimitedTargetsTable(results: RateLimitedResults): string {
  const lines = [row(['target', 'measured', 'verdict']), rule(3)];
  for (const target of results.targets) lines.push(row([target.target, target.measured, target.verdict]));
  return lines.join('\n');
}

function settingsLine(results: RateLimitedResults): string {
  const s = results.settings;
  return (
    `Simulator: faults.rateLimitTps 1 (429 with Retry-After ${s.retryAfterSeconds} s beyond it), processing delay ` +
    `${fmtInt(s.processingDelayMs)} ms per order, ${(s.transientShare * 100).toFixed(0)}% of the items ` +
    `(${fmtInt(s.transientItems)} of ${fmtInt(s.items)}) fail PROCESSING_ERROR once. Campaign: ${fmtInt(s.items)} items in orders ` +
    `of ${fmtInt(s.chunkSize)}, ${s.concurrency} orders at once, resubmit after ${fmtInt(s.resubmitDelayMs)} ms, up to ` +
    `${s.maxRounds} rounds. Script: one pacer (one request at a time, each ${fmtInt(s.paceMs)} ms after the previous answer), ` +
    `status poll every ${fmtInt(s.pollIntervalMs)} ms, all line items paged (500 a page). Product: TANGO_TPS=1, ` +
    `OAuth, webhooks on, ${s.workers.join(' / ')} \`tango-campaigns worker\` processes on one dev server and one store. ` +
    `Ideal minimum for the campaign: ${fmtInt(results.script.idealMinimum)} requests.`
  );
}

export function rateLimitedConsoleReport(results: RateLimitedResults): string {
  return [
    `Rate-limited benchmark ${results.startedAt} on ${results.machine.cpu} (${results.machine.cores} cores), ${results.command}`,
    settingsLine(results),
    '',
    sideBySideTable(results),
    '',
    ...(results.orderSizes.length > 0 ? [orderSizeTable(results), ''] : []),
    rateLimitedTargetsTable(results),
  ].join('\n');
}

/** The generated part of the "Rate-limited: 1 request/s" section of docs/benchmarks.md. */
export function rateLimitedMarkdown(results: RateLimitedResults, jsonPath: string): string {
  const { machine } = results;
  return [
    '',
    `Run of ${results.startedAt.slice(0, 10)} (\`${results.command}\`), raw figures in \`${jsonPath}\`.`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GB RAM, ` +
      `${machine.os}, Node.js ${machine.node}, Temporal CLI dev server (${machine.temporalCli}). ${settingsLine(results)}`,
    '',
    '### Side by side',
    '',
    sideBySideTable(results),
    '',
    ...(results.orderSizes.length > 0
      ? [
          `### Items per order at 1 request/s (${fmtInt(results.orderSizes[0]!.items)} items)`,
          '',
          orderSizeTable(results),
          '',
        ]
      : []),
    '### Targets',
    '',
    rateLimitedTargetsTable(results),
    '',
  ].join('\n');
}

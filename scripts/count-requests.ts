// Tango requests per 1,000 items: runs one campaign on the chaos stack (dev server, simulator,
// webhook receiver, worker process) behind a counting proxy and prints the requests by kind.
//   node --import tsx scripts/count-requests.ts [--items 2000] [--chunk 500] [--transient 0.06]
// Only loopback; everything it starts is stopped before it exits.
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { startChaosStack } from '../chaos/stack.ts';
import { LOCAL_SIMULATOR_DEFAULTS } from '../src/tango/config.ts';

const { values } = parseArgs({
  options: {
    items: { type: 'string', default: '2000' },
    chunk: { type: 'string', default: '500' },
    transient: { type: 'string', default: '0.06' },
  },
});
const itemCount = Number(values.items);
const chunkSize = Number(values.chunk);
const transientRate = Number(values.transient);

/** What one request was for, from its method, path and query. */
function kindOf(method: string, url: string): string {
  const [path = '', query = ''] = url.split('?');
  const params = new URLSearchParams(query);
  if (path.endsWith('/oauth/token')) return 'auth (token)';
  if (method === 'POST' && path.endsWith('/asyncOrders')) return 'POST order';
  if (method === 'PATCH') return 'PATCH order';
  if (/\/asyncOrders\/customers\//.test(path)) {
    if (params.has('externalLineItemReferenceIds') || params.has('referenceLineItemIds'))
      return 'GET lookup by id';
    if (params.get('failedOnly') === 'true') return 'GET page (failed only)';
    if (params.get('maxResults') === '1' && !params.has('nextCursor')) return 'GET status';
    return 'GET page (all items)';
  }
  if (/\/accounts\/[^/]+$/.test(path)) return 'GET balance';
  if (path.endsWith('/catalogs')) return 'GET catalog';
  if (path.endsWith('/webhooks')) return `${method} webhooks`;
  return `${method} other`;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// A counting proxy started before the stack (the worker is told its address), aimed at the
// simulator once the stack has started it.
const counts = new Map<string, number>();
let target: URL | undefined;
const proxy = createServer((req, res) => {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = req.url ?? '/';
  const kind = kindOf(method, url);
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  void readAll(req).then((body) => {
    if (!target) {
      res.writeHead(503).end();
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyPort = (proxy.address() as AddressInfo).port;

const stack = await startChaosStack({
  simulator: { failures: { rates: { transient: transientRate } } },
  workerEnv: { TANGO_BASE_URL: `http://127.0.0.1:${proxyPort}/raas/v2` },
});
try {
  target = new URL(stack.simulator.baseUrl);
  await stack.startWorker();
  const campaignId = `count-${Date.now()}`;
  const items = Array.from({ length: itemCount }, (_, index) => ({
    externalRefLineItemID: `count-${index}`,
    recipient: { firstName: 'Count', lastName: `Recipient ${index}`, email: `count-${index}@example.test` },
    utid: 'U000001',
    amount: 10,
    deliveryMethod: 'EMAIL',
  }));
  const started = Date.now();
  await stack.campaigns.startCampaign(
    {
      campaignId,
      customerIdentifier: LOCAL_SIMULATOR_DEFAULTS.customerIdentifier,
      accountIdentifier: LOCAL_SIMULATOR_DEFAULTS.accountIdentifier,
      options: {
        chunkSize,
        maxConcurrentOrders: 4,
        pollInitial: '5s',
        pollMax: '30s',
        resubmitDelay: '1s',
        correctionWindow: '1h',
      },
    },
    { items },
  );
  const result = await stack.campaigns.waitForCompletion(campaignId);
  const seconds = (Date.now() - started) / 1000;
  const rows = [...counts].sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  const perThousand = (n: number) => ((n * 1000) / itemCount).toFixed(1);
  console.log(
    `${itemCount} items, chunk ${chunkSize}, transient rate ${transientRate}, webhooks on: ${result.status}, ` +
      `${result.counts.delivered} delivered, ${result.counts.givenUp} given up, ${result.rounds} rounds, ` +
      `${result.orders} orders, ${seconds.toFixed(1)} s; ledger ${stack.simulator.ledger.size} entries, ` +
      `${stack.simulator.ledger.duplicates().lineItems.length} duplicates`,
  );
  console.log('| requests | count | per 1,000 items |');
  console.log('| --- | --- | --- |');
  for (const [kind, n] of rows) console.log(`| ${kind} | ${n} | ${perThousand(n)} |`);
  console.log(`| all | ${total} | ${perThousand(total)} |`);
} finally {
  await stack.close();
  await new Promise<void>((resolve) => {
    proxy.close(() => resolve());
    proxy.closeAllConnections();
  });
}

// HTTP receiver for Tango's AsyncOrderStatus webhooks: checks the signature on the raw bytes, parses
// the event, and signals the order workflow that owns its externalRefID. It answers 2xx only once
// Temporal has accepted the signal (or the order is not ours / already over), 5xx when Temporal
// cannot be reached so that Tango delivers again.
// Why so long: verification, freshness, bounds, IP allow-lists, de-duplication, throttling and
// readiness are each a few lines on the one request path, kept in order in one place.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { orderStatusSignal, orderWorkflowIdForExternalRefId } from '../definitions.ts';
import { isLoopbackHost, LOCAL_SIMULATOR_DEFAULTS, type TangoWebhookConfig } from '../tango/config.ts';
import {
  asyncOrderStatusEventSchema,
  isFinalWebhookStatus,
  type AsyncOrderStatusEvent,
} from '../tango/schemas.ts';
import { isEventFresh, verifyWebhookSignature } from '../tango/webhook-signature.ts';
import { orderStatusNoticeSchema, type OrderStatusNotice } from '../workflows/types.ts';
import { WEBHOOK_DEFAULTS, WEBHOOK_MAX_BODY_LIMIT } from './config.ts';
import { webhookEventBoundsSchema, WEBHOOK_EVENT_LIMITS } from './event-bounds.ts';
import { type AddressList, clientAddress } from './ip-allowlist.ts';
import { readBoundedBody } from '../http/request.ts';
import { RecentIds } from './recent-ids.ts';
import { SignalWindow } from './signal-window.ts';

/** gRPC's status code NOT_FOUND (what describeNamespace answers for a namespace Temporal lacks). */
const GRPC_NOT_FOUND = 5;

export interface WebhookLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line: `{"time","level","msg",...fields}`. */
export function jsonLineLogger(write: (line: string) => void): WebhookLogger {
  const emit = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`);
  return {
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** What happened to one POST; each maps to one HTTP status. */
export type WebhookOutcome =
  | 'signalled'
  | 'duplicate'
  | 'throttled'
  | 'unknown-order'
  | 'ignored-event-type'
  | 'forbidden'
  | 'bad-signature'
  | 'stale'
  | 'invalid'
  | 'too-large'
  | 'temporal-unavailable';

const STATUS_OF: Record<WebhookOutcome, number> = {
  signalled: 200,
  duplicate: 200,
  // The order heard the same kind of news less than a minute ago; it reads Tango itself anyway.
  throttled: 200,
  // Tango must not keep redelivering an event for an order we do not run (or that is over).
  'unknown-order': 200,
  'ignored-event-type': 200,
  forbidden: 403,
  'bad-signature': 401,
  stale: 401,
  invalid: 400,
  'too-large': 413,
  // Tango redelivers on 5xx; the order workflow also polls, so nothing is lost if it gives up.
  'temporal-unavailable': 503,
};

export interface WebhookReceiverOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** 0 = any free port (default 8787). */
  port?: number;
  /** Path Tango POSTs to (default /webhooks/tango). */
  path?: string;
  /** Client whose connection and namespace receive the signals; owned by the caller. */
  client: Client;
  /** Signature method, secret or certificate, header name and staleness window. */
  verification: TangoWebhookConfig;
  /** Larger bodies get 413 (default 16 KiB, at most 1 MiB). */
  maxBodyBytes?: number;
  /** Only these sources may post events; others get 403 (default: any). */
  allowedIps?: AddressList;
  /** Peers whose X-Forwarded-For is believed when telling the source (default: none). */
  trustedProxies?: AddressList;
  logger?: WebhookLogger;
  /** How many recently signalled eventIds are remembered to drop duplicates (default 10,000). */
  recentEventIds?: number;
  /**
   * One order is signalled a final status at most once per this window, and a non-final one at
   * most once too (default 60 s): later events in the window get 200 'throttled'.
   */
  signalWindowMs?: number;
  /** How many orders the signal window tracks at once, oldest forgotten first (default 10,000). */
  signalWindowOrders?: number;
  /** Deadline for one signal call, retries included; past it the answer is 503 (default 5 s). */
  signalTimeoutMs?: number;
  /** Deadline for the /readyz probe of Temporal (default 1 s). */
  readinessTimeoutMs?: number;
  /** How long a /readyz answer is reused (default 1.5 s), so probes do not load Temporal. */
  readinessCacheMs?: number;
  /** Clock for the staleness check and the signal window; tests pass a fixed one. */
  now?: () => Date;
}

export interface RunningWebhookReceiver {
  /** Full URL of the webhook path, e.g. http://127.0.0.1:8787/webhooks/tango. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Count of POSTs by outcome since start. */
  stats(): Record<WebhookOutcome, number>;
  /** Stops accepting, lets requests in flight finish (bounded), closes the listener. */
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The signal payload: the event's counts plus what lets the workflow order and deduplicate them. */
export function noticeFromEvent(event: AsyncOrderStatusEvent): OrderStatusNotice {
  const data = event.eventData;
  const notice: OrderStatusNotice = { externalRefID: data.externalRefID, status: data.status.trim() };
  notice.eventId = event.eventId;
  if (event.revision !== undefined) notice.revision = event.revision;
  if (event.eventOccurredAt !== undefined) notice.eventOccurredAt = event.eventOccurredAt;
  if (data.totalLineItems !== undefined) notice.totalLineItems = data.totalLineItems;
  if (data.failedLineItems !== undefined) notice.failedLineItems = data.failedLineItems;
  if (data.successfulLineItems !== undefined) notice.successfulLineItems = data.successfulLineItems;
  return notice;
}

/**
 * Why a receiver with these settings must not start, or undefined. Off loopback (or behind a
 * trusted proxy) the simulator's public secret is refused, and so is verification 'none' unless
 * allowUnverified says otherwise: the same rules loadTangoConfig applies, kept here for callers
 * that build the options themselves.
 */
export function exposureProblem(
  host: string,
  verification: TangoWebhookConfig,
  behindProxy = false,
): string | undefined {
  if (isLoopbackHost(host) && !behindProxy) return undefined;
  const where = behindProxy ? `behind a proxy` : `on ${host}, off loopback`;
  if (
    verification.method === 'hmac' &&
    verification.hmacSecret === LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret
  ) {
    return `TANGO_WEBHOOK_HMAC_SECRET: the receiver listens ${where} with the simulator's public test secret; set the secret registered with Tango`;
  }
  if (verification.method === 'none' && !verification.allowUnverified) {
    return `TANGO_WEBHOOK_VERIFICATION: 'none' is refused ${where}; use hmac or x509, or set TANGO_WEBHOOK_ALLOW_UNVERIFIED=true`;
  }
  return undefined;
}

export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<RunningWebhookReceiver> {
  const host = options.host ?? WEBHOOK_DEFAULTS.host;
  const path = options.path ?? WEBHOOK_DEFAULTS.path;
  const maxBodyBytes = options.maxBodyBytes ?? WEBHOOK_DEFAULTS.maxBodyBytes;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > WEBHOOK_MAX_BODY_LIMIT) {
    throw new RangeError(`maxBodyBytes must be 1-${WEBHOOK_MAX_BODY_LIMIT}, got ${maxBodyBytes}`);
  }
  const signalTimeoutMs = options.signalTimeoutMs ?? 5_000;
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 1_000;
  const readinessCacheMs = options.readinessCacheMs ?? 1_500;
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? jsonLineLogger((line) => process.stderr.write(line));
  const { client, verification, allowedIps, trustedProxies } = options;
  if (!path.startsWith('/')) throw new Error(`webhook path must start with '/', got '${path}'`);
  const problem = exposureProblem(host, verification, trustedProxies !== undefined);
  if (problem) throw new Error(`refusing to start the webhook receiver: ${problem}`);
  if (verification.method === 'none') {
    logger.warn(
      isLoopbackHost(host)
        ? 'webhook signatures are NOT verified (TANGO_WEBHOOK_VERIFICATION=none); loopback only'
        : 'webhook signatures are NOT verified off loopback (TANGO_WEBHOOK_ALLOW_UNVERIFIED=true): anyone who can reach this port can post events',
      { host, verification: 'none' },
    );
  } else if (verification.usesSimulatorSecret) {
    logger.warn(
      "webhook HMAC secret is the simulator's public test secret; fine for local development only",
      {
        host,
      },
    );
  }

  const recent = new RecentIds(options.recentEventIds ?? 10_000, WEBHOOK_EVENT_LIMITS.eventId);
  const window = new SignalWindow(options.signalWindowMs ?? 60_000, options.signalWindowOrders ?? 10_000);
  // Concurrent deliveries of one eventId (Tango retrying while the first is still in flight) share
  // the first one's signal instead of sending their own.
  const inFlight = new Map<string, Promise<WebhookOutcome>>();
  const counts = Object.fromEntries(Object.keys(STATUS_OF).map((key) => [key, 0])) as Record<
    WebhookOutcome,
    number
  >;

  async function signalOrder(event: AsyncOrderStatusEvent, fields: Record<string, unknown>) {
    const workflowId = orderWorkflowIdForExternalRefId(event.eventData.externalRefID);
    fields['workflowId'] = workflowId;
    try {
      await client.connection.withDeadline(Date.now() + signalTimeoutMs, () =>
        client.workflow.getHandle(workflowId).signal(orderStatusSignal, noticeFromEvent(event)),
      );
      return 'signalled' as const;
    } catch (error) {
      // NOT_FOUND covers both an order we never started and one whose workflow has completed.
      if (error instanceof WorkflowNotFoundError) return 'unknown-order' as const;
      fields['error'] = errorText(error);
      return 'temporal-unavailable' as const;
    }
  }

  async function deliver(event: AsyncOrderStatusEvent, fields: Record<string, unknown>) {
    const { eventId } = event;
    if (recent.has(eventId)) return 'duplicate' as const;
    const running = inFlight.get(eventId);
    if (running) {
      const outcome = await running;
      return outcome === 'signalled' ? 'duplicate' : outcome;
    }
    // One final status per order per window (whatever its eventId, status or revision), and one
    // non-final one: claimed before signalling so that concurrent copies cannot both go through.
    const kind = isFinalWebhookStatus(event.eventData.status) ? 'final' : 'interim';
    const windowKey = `${event.eventData.externalRefID}\u0000${kind}`;
    if (!window.claim(windowKey, now().getTime())) {
      fields['reason'] =
        `a ${kind} status for this order was signalled less than ${Math.round(window.windowMs / 1000)} s ago`;
      return 'throttled' as const;
    }
    const attempt = signalOrder(event, fields);
    inFlight.set(eventId, attempt);
    try {
      const outcome = await attempt;
      // Only a delivered signal makes later copies duplicates; anything else must be retried.
      if (outcome === 'signalled') recent.add(eventId);
      else window.release(windowKey);
      return outcome;
    } finally {
      inFlight.delete(eventId);
    }
  }

  async function handleEvent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const source = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies);
    const fields: Record<string, unknown> = {
      receivedAt: new Date().toISOString(),
      remoteAddress: req.socket.remoteAddress,
    };
    if (source !== req.socket.remoteAddress) fields['source'] = source ?? '(unreadable X-Forwarded-For)';
    const finish = (outcome: WebhookOutcome, extraHeaders: Record<string, string> = {}) => {
      counts[outcome] += 1;
      const status = STATUS_OF[outcome];
      send(res, status, status < 300 ? { outcome } : { error: outcome }, extraHeaders);
      const line = { ...fields, outcome, httpStatus: status, ms: Math.round(performance.now() - started) };
      if (outcome === 'temporal-unavailable') logger.error('webhook event', line);
      else if (status >= 300 || outcome === 'unknown-order') logger.warn('webhook event', line);
      else logger.info('webhook event', line);
    };

    // Checked before the body is read: a refused source costs us no more than the headers.
    if (allowedIps && (source === undefined || !allowedIps.has(source))) {
      fields['reason'] = `source ${source ?? '(unknown)'} is not in TANGO_WEBHOOK_ALLOWED_IPS`;
      finish('forbidden', { connection: 'close' });
      return;
    }

    const read = await readBoundedBody(req, maxBodyBytes);
    if (read.kind === 'aborted') {
      logger.warn('webhook request aborted by the sender before the body was complete', fields);
      return;
    }
    if (read.kind === 'too-large') {
      fields['reason'] = `body larger than ${maxBodyBytes} bytes`;
      // The rest of the body is not read: close the connection rather than drain it.
      finish('too-large', { connection: 'close' });
      return;
    }

    // The signature covers the exact bytes sent; nothing is parsed before it checks out.
    const verified = verifyWebhookSignature(read.body, req.headers, verification);
    if (!verified.ok) {
      fields['reason'] = verified.reason;
      finish('bad-signature');
      return;
    }

    let event: AsyncOrderStatusEvent;
    try {
      const json: unknown = JSON.parse(read.body.toString('utf8'));
      // Sizes first: nothing out of bounds reaches a log line, the dedup cache or a signal.
      const bounds = webhookEventBoundsSchema.safeParse(json);
      if (!bounds.success) {
        const issue = bounds.error.issues[0];
        fields['reason'] = `out of bounds: ${issue?.path.join('.') || '(body)'} ${issue?.message ?? ''}`;
        finish('invalid');
        return;
      }
      const parsed = asyncOrderStatusEventSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        fields['reason'] =
          `not an AsyncOrderStatus event: ${issue?.path.join('.') || '(body)'} ${issue?.message ?? ''}`;
        finish('invalid');
        return;
      }
      event = parsed.data;
    } catch (error) {
      fields['reason'] = `body is not JSON: ${(error as Error).message}`;
      finish('invalid');
      return;
    }
    Object.assign(fields, {
      eventId: event.eventId,
      externalRefID: event.eventData.externalRefID,
      status: event.eventData.status,
      revision: event.revision,
    });

    if (!isEventFresh(event, now(), verification.maxAgeSeconds, verification.allowUndated)) {
      fields['reason'] =
        event.eventOccurredAt == null
          ? 'no eventOccurredAt: an undated event could be a replay of any age (TANGO_WEBHOOK_ALLOW_UNDATED)'
          : `eventOccurredAt ${event.eventOccurredAt} is outside the ${verification.maxAgeSeconds} s window (TANGO_WEBHOOK_MAX_AGE_SECONDS)`;
      finish('stale');
      return;
    }
    if (event.eventType.trim().toLowerCase() !== 'asyncorderstatus') {
      fields['reason'] = `event type ${event.eventType} is not handled`;
      finish('ignored-event-type');
      return;
    }
    // The workflow's own schema, checked here too: a notice it would drop is never sent.
    const notice = orderStatusNoticeSchema.safeParse(noticeFromEvent(event));
    if (!notice.success) {
      const issue = notice.error.issues[0];
      fields['reason'] =
        `not a valid order notice: ${issue?.path.join('.') || '(notice)'} ${issue?.message ?? ''}`;
      finish('invalid');
      return;
    }
    finish(await deliver(event, fields));
  }

  // Readiness: can we reach Temporal right now, and does it hold the namespace the signals go to?
  // Cached briefly, and concurrent probes share one call.
  type Readiness = { ok: boolean; reason?: string; error?: string; at: number };
  let readiness: Readiness | undefined;
  let probing: Promise<Readiness> | undefined;
  const { namespace } = client.options;
  function checkReadiness() {
    if (readiness && Date.now() - readiness.at < readinessCacheMs) return Promise.resolve(readiness);
    probing ??= client.connection
      .withDeadline(Date.now() + readinessTimeoutMs, () =>
        client.workflowService.describeNamespace({ namespace }),
      )
      .then(
        (): Readiness => ({ ok: true, at: Date.now() }),
        (error: unknown): Readiness => ({
          ok: false,
          reason:
            (error as { code?: unknown }).code === GRPC_NOT_FOUND
              ? `Temporal has no namespace "${namespace}"`
              : 'Temporal is unreachable',
          error: errorText(error),
          at: Date.now(),
        }),
      )
      .then((result) => {
        readiness = result;
        probing = undefined;
        return result;
      });
    return probing;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://receiver').pathname;
    const method = req.method ?? 'GET';
    if (pathname === '/healthz' || pathname === '/readyz') {
      if (method !== 'GET' && method !== 'HEAD') {
        send(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
        return;
      }
      if (pathname === '/healthz') {
        send(res, 200, { status: 'ok' });
        return;
      }
      const ready = await checkReadiness();
      if (ready.ok) send(res, 200, { status: 'ready' });
      else {
        logger.warn(`not ready: ${ready.reason}`, { error: ready.error });
        send(res, 503, { status: 'not ready', reason: ready.reason });
      }
      return;
    }
    if (pathname !== path) {
      send(res, 404, { error: 'not found' });
      return;
    }
    if (method !== 'POST') {
      send(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
      return;
    }
    await handleEvent(req, res);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // A bug, not a Temporal outage; 500 still makes Tango deliver again.
      logger.error('webhook receiver failed on a request', { error: errorText(error) });
      send(res, 500, { error: 'internal error' });
    });
  });
  // Slow senders must not hold sockets open for long: a Tango event is tiny.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? WEBHOOK_DEFAULTS.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${path}`,
    host,
    port,
    stats: () => ({ ...counts }),
    close() {
      closing ??= new Promise<void>((resolve) => {
        // Requests in flight end within the signal deadline; after that, connections are cut.
        const force = setTimeout(() => server.closeAllConnections(), signalTimeoutMs + 1_000);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

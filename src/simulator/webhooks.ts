// Webhook subscriptions and the delivery of AsyncOrderStatus events: signed like Tango signs them,
// retried with backoff on non-2xx and connection errors, and disturbed on demand (drop, duplicate,
// delay, reorder) so that receivers can be tested against what Tango may do.
import { createHmac, createSign, randomUUID } from 'node:crypto';
import { type SimulatorOptions } from './options.ts';
import { type SeededRandom } from './random.ts';
import { fieldError, SimulatorHttpError, type TangoFieldError } from './tango-errors.ts';

export type VerificationMethod = 'HMAC' | 'X509' | 'NONE';

export interface WebhookSubscription {
  webhookId: string;
  url: string;
  headers: { name: string; value: string }[];
  categories: string[];
  eventTypes: string[];
  payloadVerificationMethod: VerificationMethod;
  hmacSharedSecretKey?: string;
  signingCertificate?: string;
  createdAt: string;
  /** When it stops getting events unless renewed; absent: it never expires. */
  expiresAt?: string;
}

export type WebhookStatus = 'SUCCESSFUL' | 'PARTIALFAILED' | 'FAILED' | 'RETRYING';

export interface AsyncOrderStatusEvent {
  eventId: string;
  revision: number;
  category: 'ORDER';
  eventType: 'AsyncOrderStatus';
  eventOccurredAt: string;
  eventData: {
    externalRefID: string;
    status: WebhookStatus;
    totalLineItems: number;
    failedLineItems: number;
    successfulLineItems: number;
    referenceOrderId: string;
    accountIdentifier: string;
    customerIdentifier: string;
  };
}

export interface WebhookDeliveryRecord {
  webhookId: string;
  url: string;
  eventId: string;
  externalRefID: string;
  status: WebhookStatus;
  revision: number;
  attempt: number;
  /** `expired`: not sent, the subscription had expired (not renewed in time). */
  outcome: 'delivered' | 'http-error' | 'network-error' | 'dropped' | 'gave-up' | 'expired';
  httpStatus?: number;
  error?: string;
  at: string;
}

export interface WebhookCounters {
  eventsPublished: number;
  delivered: number;
  failedAttempts: number;
  dropped: number;
  duplicated: number;
  gaveUp: number;
  /** Events not sent to a subscription because it had expired. */
  expired: number;
}

function asStringList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((entry) => typeof entry === 'string')) return value;
  return undefined;
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;

function isBase64(value: string): boolean {
  return value.length % 4 === 0 && base64Pattern.test(value);
}

export class WebhookDispatcher {
  private readonly subscriptions: WebhookSubscription[] = [];
  private readonly log: WebhookDeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private readonly held: AsyncOrderStatusEvent[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  readonly counters: WebhookCounters = {
    eventsPublished: 0,
    delivered: 0,
    failedAttempts: 0,
    dropped: 0,
    duplicated: 0,
    gaveUp: 0,
    expired: 0,
  };

  constructor(
    private readonly options: () => SimulatorOptions,
    private readonly random: SeededRandom,
    /** The simulator clock (advanceClock moves it), which subscription expiry is measured on. */
    private readonly now: () => number = Date.now,
  ) {}

  /** Validates a POST /webhooks body the way Tango documents the registration, and stores it. */
  register(body: unknown): WebhookSubscription {
    const errors: TangoFieldError[] = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SimulatorHttpError(400, '400.001', 'Request is invalid: body must be a JSON object');
    }
    const input = body as Record<string, unknown>;
    const url = input['url'];
    if (typeof url !== 'string' || !/^https?:\/\/.+/.test(url) || !URL.canParse(url)) {
      errors.push(fieldError('url', 'URL', 'must be an http(s) URL', url));
    }
    const headers: { name: string; value: string }[] = [];
    const rawHeaders = input['headers'];
    if (rawHeaders !== undefined && rawHeaders !== null) {
      if (!Array.isArray(rawHeaders))
        errors.push(fieldError('headers', 'Type', 'must be an array', rawHeaders));
      else {
        rawHeaders.forEach((header: unknown, index) => {
          const h = header as Record<string, unknown> | null;
          if (typeof h?.['name'] === 'string' && typeof h['value'] === 'string' && h['name'] !== '') {
            headers.push({ name: h['name'], value: h['value'] });
          } else {
            errors.push(fieldError(`headers[${index}]`, 'Type', 'must be {name, value} strings', header));
          }
        });
      }
    }
    const categories = asStringList(input['categories']);
    const eventTypes = asStringList(input['eventTypes']);
    if (input['categories'] !== undefined && !categories) {
      errors.push(
        fieldError('categories', 'Type', 'must be a string or an array of strings', input['categories']),
      );
    }
    if (input['eventTypes'] !== undefined && !eventTypes) {
      errors.push(
        fieldError('eventTypes', 'Type', 'must be a string or an array of strings', input['eventTypes']),
      );
    }
    const method = input['payloadVerificationMethod'];
    if (method !== 'HMAC' && method !== 'X509' && method !== 'NONE') {
      errors.push(fieldError('payloadVerificationMethod', 'Enum', 'must be one of HMAC, X509, NONE', method));
    }
    const secret = input['hmacSharedSecretKey'];
    const certificate = input['signingCertificate'];
    if (method === 'HMAC' && (typeof secret !== 'string' || secret === '' || !isBase64(secret))) {
      errors.push(
        fieldError('hmacSharedSecretKey', 'Base64', 'HMAC needs a base64 hmacSharedSecretKey', secret),
      );
    }
    if (method === 'X509') {
      if (typeof certificate !== 'string' || certificate.includes('-----') || !isBase64(certificate)) {
        errors.push(
          fieldError(
            'signingCertificate',
            'Base64',
            'X509 needs a single-line base64 certificate (no PEM header)',
            certificate,
          ),
        );
      }
    }
    if (errors.length > 0) {
      throw new SimulatorHttpError(
        400,
        '400.001',
        `Request is invalid: ${errors[0]?.path} ${errors[0]?.message}`,
        errors,
      );
    }
    if (method === 'X509' && !this.options().webhooks.x509PrivateKeyPem) {
      throw new SimulatorHttpError(
        422,
        '422.001',
        'X509 webhooks need the simulator started with webhooks.x509PrivateKeyPem (the key of the registered certificate)',
      );
    }
    const subscription: WebhookSubscription = {
      webhookId: `whk-${randomUUID()}`,
      url: url as string,
      headers,
      categories: categories ?? ['ORDER'],
      eventTypes: eventTypes ?? ['AsyncOrderStatus'],
      payloadVerificationMethod: method as VerificationMethod,
      createdAt: new Date(this.now()).toISOString(),
    };
    this.extend(subscription);
    if (method === 'HMAC') subscription.hmacSharedSecretKey = secret as string;
    if (method === 'X509') subscription.signingCertificate = certificate as string;
    this.subscriptions.push(subscription);
    return subscription;
  }

  /** POST /webhooks/{id}/renew: the subscription's lifetime starts again (even after expiry). */
  renew(webhookId: string): WebhookSubscription {
    const subscription = this.subscriptions.find((candidate) => candidate.webhookId === webhookId);
    if (!subscription) {
      throw new SimulatorHttpError(404, '404.001', `webhook subscription '${webhookId}' was not found`);
    }
    this.extend(subscription);
    return subscription;
  }

  /** Forgets a subscription, as if Tango had lost it: renewing it then answers 404. */
  remove(webhookId: string): boolean {
    const index = this.subscriptions.findIndex((candidate) => candidate.webhookId === webhookId);
    if (index < 0) return false;
    this.subscriptions.splice(index, 1);
    return true;
  }

  isExpired(subscription: WebhookSubscription): boolean {
    return subscription.expiresAt !== undefined && Date.parse(subscription.expiresAt) <= this.now();
  }

  private extend(subscription: WebhookSubscription): void {
    const lifetime = this.options().webhooks.subscriptionLifetimeSeconds;
    if (lifetime > 0) subscription.expiresAt = new Date(this.now() + lifetime * 1000).toISOString();
  }

  list(): WebhookSubscription[] {
    return this.subscriptions.slice();
  }

  deliveries(): WebhookDeliveryRecord[] {
    return this.log.slice();
  }

  /** Resolves once no event is waiting for a delivery attempt. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  publish(event: AsyncOrderStatusEvent): void {
    this.counters.eventsPublished += 1;
    const window = this.options().faults.webhook.reorderWindowMs;
    if (window > 0) {
      this.held.push(event);
      this.track(+1);
      this.holdTimer ??= this.later(window, () => {
        this.holdTimer = undefined;
        // Newest first: a receiver sees a later revision before an earlier one.
        // Staggered a little so the receiver really sees them in this order.
        const batch = this.held.splice(0).reverse();
        batch.forEach((held, position) => this.fanOut(held, position * 15));
        this.track(-batch.length);
      });
      return;
    }
    this.fanOut(event);
  }

  async close(): Promise<void> {
    this.abort.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.pending = 0;
    this.flushIdle();
  }

  private fanOut(event: AsyncOrderStatusEvent, extraDelayMs = 0): void {
    const faults = this.options().faults.webhook;
    for (const subscription of this.subscriptions) {
      if (!subscription.eventTypes.includes(event.eventType)) continue;
      if (this.isExpired(subscription)) {
        this.counters.expired += 1;
        this.record(subscription, event, 0, 'expired');
        continue;
      }
      if (this.random.chance(faults.dropRate)) {
        this.counters.dropped += 1;
        this.record(subscription, event, 0, 'dropped');
        continue;
      }
      const copies = this.random.chance(faults.duplicateRate) ? 2 : 1;
      if (copies === 2) this.counters.duplicated += 1;
      for (let copy = 0; copy < copies; copy += 1) {
        this.track(+1);
        this.later(faults.delayMs + extraDelayMs + copy * 5, () => void this.attempt(subscription, event, 1));
      }
    }
  }

  private async attempt(subscription: WebhookSubscription, event: AsyncOrderStatusEvent, attempt: number) {
    const options = this.options().webhooks;
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    for (const header of subscription.headers) headers[header.name] = header.value;
    if (subscription.payloadVerificationMethod === 'HMAC' && subscription.hmacSharedSecretKey) {
      headers[options.signatureHeader] = createHmac(
        'sha256',
        Buffer.from(subscription.hmacSharedSecretKey, 'base64'),
      )
        .update(body)
        .digest('base64');
    } else if (subscription.payloadVerificationMethod === 'X509' && options.x509PrivateKeyPem) {
      headers[options.signatureHeader] = createSign('RSA-SHA256')
        .update(body)
        .sign(options.x509PrivateKeyPem, 'base64');
    }
    let outcome: WebhookDeliveryRecord['outcome'];
    let httpStatus: number | undefined;
    let error: string | undefined;
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(options.attemptTimeoutMs)]),
      });
      httpStatus = response.status;
      await response.arrayBuffer().catch(() => undefined);
      outcome = response.ok ? 'delivered' : 'http-error';
    } catch (caught) {
      if (this.abort.signal.aborted) return;
      outcome = 'network-error';
      error =
        caught instanceof Error
          ? `${caught.message}${caught.cause ? ` (${String(caught.cause)})` : ''}`
          : String(caught);
    }
    if (this.abort.signal.aborted) return;
    this.record(subscription, event, attempt, outcome, httpStatus, error);
    if (outcome === 'delivered') {
      this.counters.delivered += 1;
      this.track(-1);
      return;
    }
    this.counters.failedAttempts += 1;
    if (attempt >= options.maxAttempts) {
      this.counters.gaveUp += 1;
      this.record(subscription, event, attempt, 'gave-up', httpStatus, error);
      this.track(-1);
      return;
    }
    const backoff = Math.min(
      options.initialBackoffMs * options.backoffMultiplier ** (attempt - 1),
      options.maxBackoffMs,
    );
    this.later(backoff, () => void this.attempt(subscription, event, attempt + 1));
  }

  private record(
    subscription: WebhookSubscription,
    event: AsyncOrderStatusEvent,
    attempt: number,
    outcome: WebhookDeliveryRecord['outcome'],
    httpStatus?: number,
    error?: string,
  ): void {
    const entry: WebhookDeliveryRecord = {
      webhookId: subscription.webhookId,
      url: subscription.url,
      eventId: event.eventId,
      externalRefID: event.eventData.externalRefID,
      status: event.eventData.status,
      revision: event.revision,
      attempt,
      outcome,
      at: new Date().toISOString(),
    };
    if (httpStatus !== undefined) entry.httpStatus = httpStatus;
    if (error !== undefined) entry.error = error;
    this.log.push(entry);
  }

  private later(ms: number, run: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private track(delta: number): void {
    this.pending += delta;
    if (this.pending <= 0) {
      this.pending = 0;
      this.flushIdle();
    }
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters.splice(0);
    for (const resolve of waiters) resolve();
  }
}

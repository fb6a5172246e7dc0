// Authorization headers for Tango: Basic (platform name / key) or an OAuth service-account token
// (password grant) that is cached, shared by concurrent requests and refreshed before it expires.
import got, { RequestError, TimeoutError } from 'got';
import { z } from 'zod';
import type { TangoAuthConfig } from './config.ts';
import { TangoHttpError, TangoNetworkError, TangoResponseValidationError, parseErrorBody } from './errors.ts';

export interface TangoLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLogger: TangoLogger = { debug: () => undefined };

export interface TangoAuthenticator {
  readonly kind: 'basic' | 'oauth';
  /** The Authorization header value for the next request. */
  authorization(): Promise<string>;
  /**
   * Tango answered 401 to a request sent with `authorization`. Returns true when a retry with a
   * fresh credential may succeed (OAuth: the cached token is dropped); false for Basic.
   */
  rejected(authorization: string): boolean;
}

export class BasicAuthenticator implements TangoAuthenticator {
  readonly kind = 'basic';
  readonly #header: string;

  constructor(platformName: string, platformKey: string) {
    this.#header = `Basic ${Buffer.from(`${platformName}:${platformKey}`).toString('base64')}`;
  }

  authorization(): Promise<string> {
    return Promise.resolve(this.#header);
  }

  rejected(): boolean {
    return false;
  }
}

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]),
  token_type: z.string().optional(),
  scope: z.string().optional(),
});

// Refresh this long before expiry: a tenth of the lifetime, at most five minutes (24 h tokens are
// refreshed 5 min early; short test tokens proportionally).
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;

export interface OAuthOptions {
  timeoutMs: number;
  logger?: TangoLogger;
  /** Clock for expiry decisions; tests pass a fake one. */
  now?: () => number;
}

export class OAuthAuthenticator implements TangoAuthenticator {
  readonly kind = 'oauth';
  readonly #config: Extract<TangoAuthConfig, { kind: 'oauth' }>;
  readonly #options: Required<OAuthOptions>;
  #token?: { header: string; refreshAtMs: number };
  #pending?: Promise<string>;

  constructor(config: Extract<TangoAuthConfig, { kind: 'oauth' }>, options: OAuthOptions) {
    this.#config = config;
    this.#options = { logger: silentLogger, now: Date.now, ...options };
  }

  authorization(): Promise<string> {
    if (this.#token && this.#options.now() < this.#token.refreshAtMs)
      return Promise.resolve(this.#token.header);
    // One token request at a time, however many API calls are waiting for it.
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  rejected(authorization: string): boolean {
    if (this.#token?.header === authorization) this.#token = undefined;
    return true;
  }

  async #fetchToken(): Promise<string> {
    const { tokenUrl, clientId, clientSecret, username, password, audience, scope } = this.#config;
    const path = new URL(tokenUrl).pathname;
    const started = this.#options.now();
    const t0 = performance.now();
    let response;
    try {
      response = await got.post(tokenUrl, {
        form: {
          grant_type: 'password',
          client_id: clientId,
          client_secret: clientSecret,
          username,
          password,
          audience,
          scope,
        },
        headers: { accept: 'application/json' },
        responseType: 'text',
        throwHttpErrors: false,
        retry: { limit: 0 },
        timeout: { request: this.#options.timeoutMs },
      });
    } catch (error) {
      throw toNetworkError(error, 'POST', path);
    }
    const requestId = headerValue(response.headers['x-request-id']);
    this.#options.logger.debug('tango oauth token', {
      method: 'POST',
      path,
      status: response.statusCode,
      requestId,
      ms: Math.round(performance.now() - t0),
    });
    if (response.statusCode < 200 || response.statusCode > 299) {
      // The token endpoint answers errors in text/plain; keep the text as the body.
      throw new TangoHttpError({
        status: response.statusCode,
        body: parseErrorBody(response.body),
        requestId,
        method: 'POST',
        path,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body);
    } catch {
      json = undefined;
    }
    const parsed = tokenResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new TangoResponseValidationError({
        issues: parsed.error.issues,
        requestId,
        endpoint: `POST ${path}`,
      });
    }
    const lifetimeMs = parsed.data.expires_in * 1000;
    const margin = Math.min(MAX_REFRESH_MARGIN_MS, lifetimeMs / 10);
    const header = `Bearer ${parsed.data.access_token}`;
    this.#token = { header, refreshAtMs: started + lifetimeMs - margin };
    return header;
  }
}

export function createAuthenticator(config: TangoAuthConfig, options: OAuthOptions): TangoAuthenticator {
  return config.kind === 'basic'
    ? new BasicAuthenticator(config.platformName, config.platformKey)
    : new OAuthAuthenticator(config, options);
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Maps got's transport failures to TangoNetworkError (timeouts flagged). got's error is not kept as
 * the cause: it holds the request options, Authorization header and token form included.
 */
export function toNetworkError(error: unknown, method: string, path: string): Error {
  if (error instanceof RequestError) {
    const isTimeout = error instanceof TimeoutError || error.code === 'ETIMEDOUT';
    return new TangoNetworkError({
      code: error.code || 'UNKNOWN',
      isTimeout,
      method,
      path,
      detail: error.message,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

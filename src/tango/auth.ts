// Authorization headers for Tango: Basic (platform name / key) or an OAuth service-account token
// (password grant) that is cached, shared by concurrent requests and refreshed before it expires.
// Given a TokenCache, the token is also shared by every process using that cache: one of them
// renews it (holding the cache's lease), the others keep using the current one or re-read it.
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

/** An OAuth token as a TokenCache keeps it. */
export interface CachedToken {
  accessToken: string;
  /** When Tango says the token stops working (ms since the epoch). */
  expiresAtMs: number;
  /** From when it should be renewed: the start of its refresh window (ms since the epoch). */
  refreshAtMs: number;
}

/** A held renewal lease; `release` gives it up (a lease also lapses on its own). */
export interface TokenLease {
  release(): Promise<void>;
}

/**
 * Where the OAuth token is shared between processes (the claim-check store in a deployment). The
 * authenticator treats every failure of a cache call as "no cache": it never stops a request.
 */
export interface TokenCache {
  /** The stored token; undefined when there is none or it cannot be read (corrupt, wrong key). */
  read(): Promise<CachedToken | undefined>;
  write(token: CachedToken): Promise<void>;
  /** Removes the stored token, only if it is still `accessToken` (Tango refused it with a 401). */
  drop(accessToken: string): Promise<void>;
  /** Takes the renewal lease; undefined while another holder has it (and it has not lapsed). */
  lease(): Promise<TokenLease | undefined>;
}

export interface OAuthOptions {
  timeoutMs: number;
  logger?: TangoLogger;
  /** Clock for expiry decisions; tests pass a fake one. */
  now?: () => number;
  /** Share the token through this cache (several workers, restarts); default: this process only. */
  tokenCache?: TokenCache;
  /**
   * While another process renews the token: how often to look for the new one (default 250 ms),
   * and how long to wait in all when there is no usable token meanwhile before fetching one
   * regardless (default 40 s, longer than a renewal lease lasts).
   */
  leaseWaitMs?: { poll: number; total: number };
  /** How to wait (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

// A token another process is renewing is used for this long before the cache is read again.
const RECHECK_MS = 1_000;
// A token this close to its expiry is not handed out from the cache.
const EXPIRY_SAFETY_MS = 5_000;

export class OAuthAuthenticator implements TangoAuthenticator {
  readonly kind = 'oauth';
  readonly #config: Extract<TangoAuthConfig, { kind: 'oauth' }>;
  readonly #options: Required<Omit<OAuthOptions, 'tokenCache'>>;
  readonly #cache: TokenCache | undefined;
  // `useUntilMs`: when to look again (the refresh window's start, or a recheck while another
  // process renews).
  #token?: { header: string; accessToken: string; useUntilMs: number };
  #pending?: Promise<string>;
  // The last token Tango refused, and its removal from the cache while that runs.
  #refused?: string;
  #dropping: Promise<void> = Promise.resolve();

  constructor(config: Extract<TangoAuthConfig, { kind: 'oauth' }>, options: OAuthOptions) {
    this.#config = config;
    const { tokenCache, ...rest } = options;
    this.#cache = tokenCache;
    this.#options = {
      logger: silentLogger,
      now: Date.now,
      leaseWaitMs: { poll: 250, total: 40_000 },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...rest,
    };
  }

  authorization(): Promise<string> {
    if (this.#token && this.#options.now() < this.#token.useUntilMs)
      return Promise.resolve(this.#token.header);
    // One token request at a time, however many API calls are waiting for it.
    this.#pending ??= (this.#cache ? this.#fromCache(this.#cache) : this.#fetchLocal()).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  rejected(authorization: string): boolean {
    if (this.#token?.header === authorization) {
      const { accessToken } = this.#token;
      this.#token = undefined;
      this.#refused = accessToken;
      const cache = this.#cache;
      if (cache) {
        this.#dropping = this.#dropping.then(() =>
          cache.drop(accessToken).catch((error: unknown) => this.#cacheFailed('drop', error)),
        );
      }
    }
    return true;
  }

  async #fetchLocal(): Promise<string> {
    const token = await this.#fetchToken();
    return this.#use(token, token.refreshAtMs);
  }

  #use(token: CachedToken, useUntilMs: number): string {
    const header = `Bearer ${token.accessToken}`;
    this.#token = { header, accessToken: token.accessToken, useUntilMs };
    return header;
  }

  #cacheFailed(operation: string, error: unknown): void {
    this.#options.logger.debug('tango oauth token cache failed', {
      operation,
      error: error instanceof Error ? error.message : String(error),
    });
  }

  async #read(cache: TokenCache): Promise<CachedToken | undefined> {
    await this.#dropping;
    const token = await cache.read();
    // A token Tango refused is not taken back from the cache (another process may still hold it).
    return token && token.accessToken !== this.#refused ? token : undefined;
  }

  /**
   * The shared token: the cached one while it is outside its refresh window; otherwise renewed by
   * whoever takes the lease, while the others keep using the cached token (re-reading the cache
   * every RECHECK_MS) or, with none usable, wait for the new one.
   */
  async #fromCache(cache: TokenCache): Promise<string> {
    const now = this.#options.now;
    const started = now();
    for (;;) {
      let cached: CachedToken | undefined;
      let lease: TokenLease | undefined;
      try {
        cached = await this.#read(cache);
        if (cached && now() < cached.refreshAtMs) return this.#use(cached, cached.refreshAtMs);
        lease = await cache.lease();
      } catch (error) {
        // The cache is unreachable: requests go on with a token of this process's own.
        this.#cacheFailed('read', error);
        return this.#fetchLocal();
      }
      if (lease) return this.#renewHolding(cache, lease);
      const usable = cached && now() < cached.expiresAtMs - EXPIRY_SAFETY_MS;
      if (cached && usable) return this.#use(cached, Math.min(now() + RECHECK_MS, cached.expiresAtMs));
      if (now() - started >= this.#options.leaseWaitMs.total) {
        this.#options.logger.debug('tango oauth token lease not released in time; fetching a token');
        return this.#fetchLocal();
      }
      await this.#options.sleep(this.#options.leaseWaitMs.poll);
    }
  }

  async #renewHolding(cache: TokenCache, lease: TokenLease): Promise<string> {
    try {
      // Someone may have renewed it between our read and our lease.
      const fresh = await this.#read(cache).catch(() => undefined);
      if (fresh && this.#options.now() < fresh.refreshAtMs) return this.#use(fresh, fresh.refreshAtMs);
      const token = await this.#fetchToken();
      await cache.write(token).catch((error: unknown) => this.#cacheFailed('write', error));
      return this.#use(token, token.refreshAtMs);
    } finally {
      await lease.release().catch((error: unknown) => this.#cacheFailed('release', error));
    }
  }

  async #fetchToken(): Promise<CachedToken> {
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
    return {
      accessToken: parsed.data.access_token,
      expiresAtMs: started + lifetimeMs,
      refreshAtMs: started + lifetimeMs - margin,
    };
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

// Tango connection settings, parsed once from an environment object (never process.env directly).
// Against a loopback base URL every secret defaults to the local simulator's; anywhere else a
// missing secret is a ConfigError that names the variable, so production never runs on test keys.
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';

/** The local simulator's address and credentials; the simulator and the product share these. */
export const LOCAL_SIMULATOR_DEFAULTS = {
  port: 8790,
  baseUrl: 'http://127.0.0.1:8790/raas/v2',
  tokenUrl: 'http://127.0.0.1:8790/oauth/token',
  platformName: 'tango-campaigns-sim',
  platformKey: 'sim-platform-key',
  customerIdentifier: 'sim-customer',
  accountIdentifier: 'sim-account-1',
  /** base64 of "tango-campaigns-simulator-webhook-secret"; test-only, valid nowhere but the simulator. */
  webhookHmacSecret: 'dGFuZ28tY2FtcGFpZ25zLXNpbXVsYXRvci13ZWJob29rLXNlY3JldA==',
  oauthClientId: 'sim-client-id',
  oauthClientSecret: 'sim-client-secret',
  oauthUsername: 'sim-service-account',
  oauthPassword: 'sim-service-password',
} as const;

/** Tango's documented hosts and the auth hosts paired with them ([unconfirmed] for the auth hosts). */
export const TANGO_SANDBOX_BASE_URL = 'https://integration-api.tangocard.com/raas/v2';
export const TANGO_PRODUCTION_BASE_URL = 'https://api.tangocard.com/raas/v2';
const KNOWN_TOKEN_URLS: Record<string, string> = {
  'integration-api.tangocard.com': 'https://sandbox-auth.tangocard.com/oauth/token',
  'api.tangocard.com': 'https://auth.tangocard.com/oauth/token',
};

export class ConfigError extends Error {
  constructor(
    /** The environment variable that is wrong or missing. */
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type TangoAuthConfig =
  | { kind: 'basic'; platformName: string; platformKey: string }
  | {
      kind: 'oauth';
      tokenUrl: string;
      clientId: string;
      clientSecret: string;
      username: string;
      password: string;
      audience: string;
      scope: string;
    };

export interface TangoWebhookConfig {
  /** Field names match verifyWebhookSignature's options, so this object can be passed as is. */
  method: 'hmac' | 'x509' | 'none';
  /** base64 shared secret (HMAC). */
  hmacSecret?: string;
  /** PEM certificate (X.509); TANGO_WEBHOOK_CERTIFICATE may also be single-line base64 DER. */
  certificate?: string;
  headerName: string;
  maxAgeSeconds: number;
  /**
   * TANGO_WEBHOOK_ALLOW_UNVERIFIED=true: lets verification 'none' run off loopback (logged at
   * start). Without it the receiver refuses to start there.
   */
  allowUnverified?: boolean;
  /**
   * TANGO_WEBHOOK_ALLOW_UNDATED=true: events without eventOccurredAt are accepted. By default they
   * count as stale, since nothing bounds how long ago they were signed.
   */
  allowUndated?: boolean;
  /** True when hmacSecret is the simulator's public test secret (loopback defaults only). */
  usesSimulatorSecret?: boolean;
}

export interface TangoConfig {
  /** Without a trailing slash, e.g. https://integration-api.tangocard.com/raas/v2 */
  baseUrl: string;
  /** True when baseUrl points at this machine (the simulator); secrets may then default. */
  isLoopback: boolean;
  auth: TangoAuthConfig;
  /** Default customer/account for tools and contract tests; campaigns carry their own. */
  customerIdentifier?: string;
  accountIdentifier?: string;
  /** Requests per second Tango allows us, for every worker together (the shared request gate). */
  tps: number;
  /**
   * Tango calls one worker process runs at once (TANGO_MAX_CONCURRENT_REQUESTS): the rest wait in
   * the Tango task queue, not in the process. Default max(2, ceil(2 x TANGO_TPS)).
   */
  maxConcurrentRequests: number;
  timeoutMs: number;
  /**
   * How long a 404 for an order this worker POSTed counts as "Tango does not show it yet" (GET may
   * lag POST) before it counts as anything: retried with a short doubling backoff meanwhile.
   */
  visibilityGraceMs: number;
  webhook: TangoWebhookConfig;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '::ffff:127.0.0.1']);

/** True for an interface name or address on this machine only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase();
  return LOOPBACK_HOSTS.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name) || name.endsWith('.localhost');
}

export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL')
  // Credentials in a URL would end up in error messages and logs; they belong in their variables.
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.username === '' && url.password === '';
    } catch {
      return true;
    }
  }, 'must not contain user:password@ (use the credential variables)')
  // Credentials and tokens travel on these URLs: plain http is for the local simulator only.
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || isLoopbackHost(url.hostname);
    } catch {
      return true;
    }
  }, 'must be https:// off loopback (http:// is accepted only for 127.0.0.1 / localhost)');

const positiveNumber = z.coerce
  .number<string>({ error: 'must be a number' })
  .finite('must be a finite number')
  .positive('must be greater than 0');
const positiveInteger = z.coerce
  .number<string>({ error: 'must be a whole number' })
  .int('must be a whole number')
  .positive('must be greater than 0');
const base64 = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 (the key as registered with Tango)')
  .refine((value) => Buffer.from(value, 'base64').length >= 16, 'decodes to fewer than 16 bytes');

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false'], { error: 'must be true or false' }))
  .transform((value) => value === 'true');

// Empty strings count as unset: `TANGO_TPS=` in a .env file means "use the default".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );

const envSchema = z.object({
  TANGO_BASE_URL: optional(httpUrl),
  TANGO_AUTH: optional(z.enum(['oauth', 'basic'])),
  TANGO_PLATFORM_NAME: optional(z.string()),
  TANGO_PLATFORM_KEY: optional(z.string()),
  TANGO_OAUTH_TOKEN_URL: optional(httpUrl),
  TANGO_OAUTH_CLIENT_ID: optional(z.string()),
  TANGO_OAUTH_CLIENT_SECRET: optional(z.string()),
  TANGO_OAUTH_USERNAME: optional(z.string()),
  TANGO_OAUTH_PASSWORD: optional(z.string()),
  TANGO_OAUTH_AUDIENCE: optional(z.string()),
  TANGO_OAUTH_SCOPE: optional(z.string()),
  TANGO_CUSTOMER_IDENTIFIER: optional(z.string()),
  TANGO_ACCOUNT_IDENTIFIER: optional(z.string().min(5).max(100)),
  TANGO_TPS: optional(positiveNumber),
  TANGO_MAX_CONCURRENT_REQUESTS: optional(positiveInteger),
  TANGO_TIMEOUT_MS: optional(positiveInteger),
  TANGO_VISIBILITY_GRACE_SECONDS: optional(positiveInteger),
  TANGO_WEBHOOK_VERIFICATION: optional(z.enum(['hmac', 'x509', 'none'])),
  TANGO_WEBHOOK_HMAC_SECRET: optional(base64),
  TANGO_WEBHOOK_CERTIFICATE: optional(z.string()),
  TANGO_WEBHOOK_SIGNATURE_HEADER: optional(
    z.string().regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name'),
  ),
  TANGO_WEBHOOK_MAX_AGE_SECONDS: optional(positiveInteger),
  TANGO_WEBHOOK_ALLOW_UNVERIFIED: optional(flag),
  TANGO_WEBHOOK_ALLOW_UNDATED: optional(flag),
});

/** Variables whose values never appear in an error message (a typo in a secret is still a secret). */
const SECRET_VARIABLES = new Set([
  'TANGO_PLATFORM_KEY',
  'TANGO_OAUTH_CLIENT_SECRET',
  'TANGO_OAUTH_PASSWORD',
  'TANGO_WEBHOOK_HMAC_SECRET',
]);

/** Turns a PEM or single-line base64 DER certificate into PEM, or says why it cannot. */
export function certificateToPem(value: string): string {
  const trimmed = value.trim();
  const pem = trimmed.includes('-----BEGIN')
    ? trimmed.replace(/\\n/g, '\n')
    : `-----BEGIN CERTIFICATE-----\n${(trimmed.replace(/\s+/g, '').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(pem); // throws when it is not a certificate
  return pem;
}

export interface LoadTangoConfigOptions {
  /**
   * The interface the webhook receiver listens on, when the caller runs one. Off loopback the
   * simulator's public webhook secret never applies (whatever TANGO_BASE_URL says), and
   * verification 'none' needs TANGO_WEBHOOK_ALLOW_UNVERIFIED=true.
   */
  receiverHost?: string;
  /**
   * The receiver sits behind a proxy (TANGO_WEBHOOK_TRUSTED_PROXIES is set): requests come from
   * elsewhere even on loopback, so the public secret does not apply either.
   */
  receiverBehindProxy?: boolean;
}

/**
 * Reads the TANGO_* variables from `env` (pass process.env from the entry point) and returns the
 * typed configuration, or throws ConfigError naming the first variable that is wrong.
 */
export function loadTangoConfig(
  env: Record<string, string | undefined>,
  options: LoadTangoConfigOptions = {},
): TangoConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'TANGO_*');
    const got = SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(env[variable] ?? null)})`;
    throw new ConfigError(variable, `${issue.message}${got}`);
  }
  const vars = parsed.data;
  const baseUrl = (vars.TANGO_BASE_URL ?? LOCAL_SIMULATOR_DEFAULTS.baseUrl).replace(/\/+$/, '');
  const isLoopback = isLoopbackUrl(baseUrl);
  const where = isLoopback
    ? ''
    : ` (TANGO_BASE_URL is ${baseUrl}; simulator defaults apply only on loopback)`;

  // A secret falls back to the simulator's only when talking to the simulator.
  const secret = (variable: keyof typeof vars, simulatorValue: string, purpose: string): string => {
    const value = vars[variable];
    if (typeof value === 'string' && value !== '') return value;
    if (isLoopback) return simulatorValue;
    throw new ConfigError(variable, `is required ${purpose}${where}`);
  };

  const authKind = vars.TANGO_AUTH ?? 'basic';
  let auth: TangoAuthConfig;
  if (authKind === 'basic') {
    auth = {
      kind: 'basic',
      platformName: secret(
        'TANGO_PLATFORM_NAME',
        LOCAL_SIMULATOR_DEFAULTS.platformName,
        'for TANGO_AUTH=basic',
      ),
      platformKey: secret('TANGO_PLATFORM_KEY', LOCAL_SIMULATOR_DEFAULTS.platformKey, 'for TANGO_AUTH=basic'),
    };
  } else {
    const host = new URL(baseUrl).hostname;
    const tokenUrl =
      vars.TANGO_OAUTH_TOKEN_URL ??
      (isLoopback ? `${new URL(baseUrl).origin}/oauth/token` : KNOWN_TOKEN_URLS[host]);
    if (!tokenUrl) {
      throw new ConfigError(
        'TANGO_OAUTH_TOKEN_URL',
        `is required for TANGO_AUTH=oauth: no known token URL for ${host}`,
      );
    }
    const why = 'for TANGO_AUTH=oauth';
    auth = {
      kind: 'oauth',
      tokenUrl,
      clientId: secret('TANGO_OAUTH_CLIENT_ID', LOCAL_SIMULATOR_DEFAULTS.oauthClientId, why),
      clientSecret: secret('TANGO_OAUTH_CLIENT_SECRET', LOCAL_SIMULATOR_DEFAULTS.oauthClientSecret, why),
      username: secret('TANGO_OAUTH_USERNAME', LOCAL_SIMULATOR_DEFAULTS.oauthUsername, why),
      password: secret('TANGO_OAUTH_PASSWORD', LOCAL_SIMULATOR_DEFAULTS.oauthPassword, why),
      audience: vars.TANGO_OAUTH_AUDIENCE ?? 'https://api.tangocard.com/',
      scope: vars.TANGO_OAUTH_SCOPE ?? 'raas.all',
    };
  }

  const method = vars.TANGO_WEBHOOK_VERIFICATION ?? 'hmac';
  const webhook: TangoWebhookConfig = {
    method,
    headerName: vars.TANGO_WEBHOOK_SIGNATURE_HEADER ?? 'X-Signed-Payload',
    maxAgeSeconds: vars.TANGO_WEBHOOK_MAX_AGE_SECONDS ?? 600,
    allowUnverified: vars.TANGO_WEBHOOK_ALLOW_UNVERIFIED ?? false,
    allowUndated: vars.TANGO_WEBHOOK_ALLOW_UNDATED ?? false,
    usesSimulatorSecret: false,
  };
  // A receiver reachable from other machines never takes the public simulator secret, and never
  // runs unverified unless told to in so many words.
  const receiverExposed =
    (options.receiverHost !== undefined && !isLoopbackHost(options.receiverHost)) ||
    options.receiverBehindProxy === true;
  const exposure =
    options.receiverHost !== undefined && !isLoopbackHost(options.receiverHost)
      ? `the receiver listens on ${options.receiverHost}, off loopback`
      : 'the receiver is behind a proxy (TANGO_WEBHOOK_TRUSTED_PROXIES)';
  if (method === 'hmac') {
    if (receiverExposed && !vars.TANGO_WEBHOOK_HMAC_SECRET) {
      throw new ConfigError(
        'TANGO_WEBHOOK_HMAC_SECRET',
        `is required: ${exposure}, and the simulator's default secret is public (set the base64 secret registered with Tango)`,
      );
    }
    webhook.hmacSecret = secret(
      'TANGO_WEBHOOK_HMAC_SECRET',
      LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret,
      'for TANGO_WEBHOOK_VERIFICATION=hmac (or set TANGO_WEBHOOK_VERIFICATION)',
    );
    webhook.usesSimulatorSecret = webhook.hmacSecret === LOCAL_SIMULATOR_DEFAULTS.webhookHmacSecret;
    if (receiverExposed && webhook.usesSimulatorSecret) {
      throw new ConfigError(
        'TANGO_WEBHOOK_HMAC_SECRET',
        `is the simulator's public test secret: ${exposure}; set the secret registered with Tango`,
      );
    }
  } else if (method === 'none') {
    if (receiverExposed && !webhook.allowUnverified) {
      throw new ConfigError(
        'TANGO_WEBHOOK_VERIFICATION',
        `'none' is refused: ${exposure}, where anyone could post events. Use hmac or x509, or set TANGO_WEBHOOK_ALLOW_UNVERIFIED=true to accept unsigned events anyway (logged at start)`,
      );
    }
  } else if (method === 'x509') {
    if (!vars.TANGO_WEBHOOK_CERTIFICATE) {
      throw new ConfigError(
        'TANGO_WEBHOOK_CERTIFICATE',
        'is required for TANGO_WEBHOOK_VERIFICATION=x509 (PEM, or single-line base64 DER as registered with Tango)',
      );
    }
    try {
      webhook.certificate = certificateToPem(vars.TANGO_WEBHOOK_CERTIFICATE);
    } catch (error) {
      throw new ConfigError(
        'TANGO_WEBHOOK_CERTIFICATE',
        `is not a readable X.509 certificate (${(error as Error).message}); give PEM or single-line base64 DER`,
      );
    }
  }

  return {
    baseUrl,
    isLoopback,
    auth,
    customerIdentifier:
      vars.TANGO_CUSTOMER_IDENTIFIER ??
      (isLoopback ? LOCAL_SIMULATOR_DEFAULTS.customerIdentifier : undefined),
    accountIdentifier:
      vars.TANGO_ACCOUNT_IDENTIFIER ?? (isLoopback ? LOCAL_SIMULATOR_DEFAULTS.accountIdentifier : undefined),
    tps: vars.TANGO_TPS ?? 1,
    maxConcurrentRequests:
      vars.TANGO_MAX_CONCURRENT_REQUESTS ?? Math.max(2, Math.ceil(2 * (vars.TANGO_TPS ?? 1))),
    timeoutMs: vars.TANGO_TIMEOUT_MS ?? 30_000,
    visibilityGraceMs: (vars.TANGO_VISIBILITY_GRACE_SECONDS ?? 600) * 1000,
    webhook,
  };
}

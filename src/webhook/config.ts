// The webhook receiver's own settings (where it listens, how big a body may be), parsed once from
// an environment object. Signature settings come from loadTangoConfig (TANGO_WEBHOOK_*).
import { z } from 'zod';
import { ConfigError } from '../tango/config.ts';
import { type AddressList, parseAddressList } from './ip-allowlist.ts';

export const WEBHOOK_DEFAULTS = {
  host: '127.0.0.1',
  port: 8787,
  path: '/webhooks/tango',
  /** 16 KiB: an AsyncOrderStatus event carries counts only and is well under 1 KiB. */
  maxBodyBytes: 16 * 1024,
} as const;

/** The largest WEBHOOK_MAX_BODY_BYTES accepted: the receiver holds a whole body in memory. */
export const WEBHOOK_MAX_BODY_LIMIT = 1024 * 1024;

export interface WebhookConfig {
  host: string;
  port: number;
  path: string;
  maxBodyBytes: number;
  /** TANGO_WEBHOOK_ALLOWED_IPS: only these sources may post events (others get 403); all when unset. */
  allowedIps?: AddressList;
  /** TANGO_WEBHOOK_TRUSTED_PROXIES: peers whose X-Forwarded-For is believed; none when unset. */
  trustedProxies?: AddressList;
}

// Empty strings count as unset, as in loadTangoConfig: `WEBHOOK_PORT=` means "use the default".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    schema.optional(),
  );

const envSchema = z.object({
  WEBHOOK_HOST: optional(z.string().trim().min(1)),
  WEBHOOK_PORT: optional(
    z.coerce
      .number<string>({ error: 'must be a whole number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 65535 (0 = any free port)')
      .max(65535, 'must be between 0 and 65535 (0 = any free port)'),
  ),
  WEBHOOK_PATH: optional(
    z
      .string()
      .trim()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'must be a URL path starting with / (no query)'),
  ),
  WEBHOOK_MAX_BODY_BYTES: optional(
    z.coerce
      .number<string>({ error: 'must be a whole number of bytes' })
      .int('must be a whole number of bytes')
      .min(1024, 'must be at least 1024 bytes')
      .max(WEBHOOK_MAX_BODY_LIMIT, 'must be at most 1 MiB (1048576)'),
  ),
  TANGO_WEBHOOK_ALLOWED_IPS: optional(z.string()),
  TANGO_WEBHOOK_TRUSTED_PROXIES: optional(z.string()),
});

function addressList(variable: string, text: string | undefined): AddressList | undefined {
  if (text === undefined) return undefined;
  try {
    return parseAddressList(text);
  } catch (error) {
    throw new ConfigError(variable, (error as Error).message);
  }
}

/**
 * Reads WEBHOOK_HOST, WEBHOOK_PORT, WEBHOOK_PATH, WEBHOOK_MAX_BODY_BYTES, TANGO_WEBHOOK_ALLOWED_IPS
 * and TANGO_WEBHOOK_TRUSTED_PROXIES from `env` (pass process.env from the entry point); throws
 * ConfigError naming the first variable that is wrong.
 */
export function loadWebhookConfig(env: Record<string, string | undefined>): WebhookConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'WEBHOOK_*');
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable] ?? null)})`);
  }
  const vars = parsed.data;
  const config: WebhookConfig = {
    host: vars.WEBHOOK_HOST ?? WEBHOOK_DEFAULTS.host,
    port: vars.WEBHOOK_PORT ?? WEBHOOK_DEFAULTS.port,
    // A trailing slash would make the registered URL and the served path disagree.
    path: (vars.WEBHOOK_PATH ?? WEBHOOK_DEFAULTS.path).replace(/(.)\/+$/, '$1'),
    maxBodyBytes: vars.WEBHOOK_MAX_BODY_BYTES ?? WEBHOOK_DEFAULTS.maxBodyBytes,
  };
  const allowedIps = addressList('TANGO_WEBHOOK_ALLOWED_IPS', vars.TANGO_WEBHOOK_ALLOWED_IPS);
  const trustedProxies = addressList('TANGO_WEBHOOK_TRUSTED_PROXIES', vars.TANGO_WEBHOOK_TRUSTED_PROXIES);
  if (allowedIps) config.allowedIps = allowedIps;
  if (trustedProxies) config.trustedProxies = trustedProxies;
  return config;
}

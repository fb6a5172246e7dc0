// The notification webhook's settings, parsed once from the environment: where to send (NOTIFY_URL),
// the HMAC-SHA256 signing secret, the signature header, the request timeout and the throttle of
// repeated count changes. Without NOTIFY_URL nothing is sent.
import { ConfigError } from '../tango/config.ts';

export interface NotifyConfig {
  /** Undefined: notifications are off. */
  url?: string;
  signingSecret?: string;
  signatureHeader: string;
  timeoutMs: number;
  /** At most one "awaiting correction" (and one "awaiting funds") update per this interval. */
  throttleMs: number;
}

export const DEFAULT_SIGNATURE_HEADER = 'X-Tango-Campaigns-Signature';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_THROTTLE_SECONDS = 900;

type Env = Record<string, string | undefined>;

const set = (value: string | undefined) =>
  value !== undefined && value.trim() !== '' ? value.trim() : undefined;

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = set(env[name]);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
  return value;
}

export function loadNotifyConfig(env: Env): NotifyConfig {
  const url = set(env.NOTIFY_URL);
  const signingSecret = set(env.NOTIFY_SIGNING_SECRET);
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'NOTIFY_URL',
        `"${url}" is not a URL (for example https://hooks.example.com/tango)`,
      );
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw new ConfigError('NOTIFY_URL', `must be an http(s) URL (got ${parsed.protocol})`);
    if (signingSecret === undefined || signingSecret.length < 16)
      throw new ConfigError(
        'NOTIFY_SIGNING_SECRET',
        'set it (at least 16 characters) with NOTIFY_URL: every notification is signed with it (HMAC-SHA256) so that the receiver can check it came from us',
      );
  }
  const header = set(env.NOTIFY_SIGNATURE_HEADER) ?? DEFAULT_SIGNATURE_HEADER;
  if (!/^[A-Za-z0-9-]{1,100}$/.test(header))
    throw new ConfigError('NOTIFY_SIGNATURE_HEADER', `"${header}" is not an HTTP header name`);
  return {
    ...(url !== undefined ? { url, signingSecret } : {}),
    signatureHeader: header,
    timeoutMs: wholeNumber(env, 'NOTIFY_TIMEOUT_MS', DEFAULT_TIMEOUT_MS, 100, 120_000),
    throttleMs: wholeNumber(env, 'NOTIFY_THROTTLE_SECONDS', DEFAULT_THROTTLE_SECONDS, 0, 86_400) * 1000,
  };
}

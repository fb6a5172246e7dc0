// Verifies that a webhook body really comes from Tango: HMAC-SHA256 over the raw body with the
// shared secret, or an RSA/SHA-256 signature checked against the registered X.509 certificate,
// plus a staleness window on eventOccurredAt against replays. Comparisons are constant-time.
import { X509Certificate, createHmac, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { certificateToPem } from './config.ts';

export interface WebhookVerificationOptions {
  method: 'hmac' | 'x509' | 'none';
  /** base64 shared secret (the hmacSharedSecretKey registered with Tango). */
  hmacSecret?: string;
  /** PEM, or single-line base64 DER, certificate (the signingCertificate registered with Tango). */
  certificate?: string;
  /** Header carrying the signature; Tango documents X-Signed-Payload. */
  headerName: string;
}

export type WebhookVerificationResult = { ok: true } | { ok: false; reason: string };

/** base64(HMAC-SHA256(key = base64-decoded secret, raw body)): what Tango puts in X-Signed-Payload. */
export function signHmacPayload(rawBody: Buffer | string, secretBase64: string): string {
  return createHmac('sha256', Buffer.from(secretBase64, 'base64')).update(rawBody).digest('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Decodes a signature header: base64 (Tango's documented encoding) or, since the encoding is not
 * confirmed, 64 hex digits, with an optional "sha256=" prefix. Undefined when it is neither.
 */
function decodeSignature(value: string): Buffer | undefined {
  const text = value.trim().replace(/^sha256=/i, '');
  if (HEX_SHA256.test(text)) return Buffer.from(text, 'hex');
  if (BASE64.test(text) && text.length % 4 === 0) return Buffer.from(text, 'base64');
  return undefined;
}

const certificateCache = new Map<string, X509Certificate>();

function loadCertificate(certificate: string): X509Certificate {
  let cert = certificateCache.get(certificate);
  if (!cert) {
    cert = new X509Certificate(certificateToPem(certificate));
    certificateCache.set(certificate, cert);
  }
  return cert;
}

/**
 * Checks the signature header of a webhook request against the raw body bytes (before any JSON
 * parsing: re-serialized JSON would not match). Never throws; a failure says why.
 */
export function verifyWebhookSignature(
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  options: WebhookVerificationOptions,
): WebhookVerificationResult {
  if (options.method === 'none') return { ok: true };
  const headerName = options.headerName.toLowerCase();
  const header = headers[headerName];
  if (Array.isArray(header) && header.length > 1) {
    return { ok: false, reason: `more than one ${options.headerName} header` };
  }
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') {
    return { ok: false, reason: `missing ${options.headerName} header` };
  }
  const signature = decodeSignature(value);
  if (!signature) return { ok: false, reason: `${options.headerName} is not base64 or hex` };

  if (options.method === 'hmac') {
    if (!options.hmacSecret)
      return { ok: false, reason: 'no HMAC secret configured (TANGO_WEBHOOK_HMAC_SECRET)' };
    const expected = createHmac('sha256', Buffer.from(options.hmacSecret, 'base64')).update(rawBody).digest();
    // The length of an HMAC is public; only the bytes need the constant-time comparison.
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      return { ok: false, reason: `${options.headerName} does not match the body (HMAC-SHA256)` };
    }
    return { ok: true };
  }

  if (!options.certificate) {
    return { ok: false, reason: 'no certificate configured (TANGO_WEBHOOK_CERTIFICATE)' };
  }
  let cert: X509Certificate;
  try {
    cert = loadCertificate(options.certificate);
  } catch (error) {
    return { ok: false, reason: `configured certificate is unreadable: ${(error as Error).message}` };
  }
  // RSA PKCS#1 v1.5 with SHA-256 (the key type decides the scheme: ECDSA certificates work too).
  // crypto.verify compares in constant time internally.
  let valid = false;
  try {
    valid = verifySignature('sha256', rawBody, cert.publicKey, signature);
  } catch {
    valid = false;
  }
  return valid
    ? { ok: true }
    : {
        ok: false,
        reason: `${options.headerName} is not a valid signature of the body for the configured certificate`,
      };
}

/**
 * True when the event's eventOccurredAt lies within maxAgeSeconds of `now` (either side, to allow
 * clock skew). An unreadable timestamp counts as stale. An event without one cannot be judged: it
 * counts as stale too (a replay of it would be fresh forever) unless `allowUndated` is set
 * (TANGO_WEBHOOK_ALLOW_UNDATED=true).
 */
export function isEventFresh(
  event: { eventOccurredAt?: string | null },
  now: Date,
  maxAgeSeconds: number,
  allowUndated = false,
): boolean {
  if (event.eventOccurredAt == null) return allowUndated;
  const occurredMs = parseTimestamp(event.eventOccurredAt);
  if (occurredMs === undefined) return false;
  return Math.abs(now.getTime() - occurredMs) <= maxAgeSeconds * 1000;
}

/** ISO 8601 with any number of fractional digits (Tango sends nanoseconds) to epoch ms. */
function parseTimestamp(value: string): number | undefined {
  const trimmed = value.trim().replace(/(\.\d{3})\d+/, '$1');
  if (!/^\d{4}-\d{2}-\d{2}T/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

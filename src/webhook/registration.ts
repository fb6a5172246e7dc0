// Builds the POST /webhooks body that subscribes our receiver to AsyncOrderStatus events, signed
// the way the receiver is configured to verify (TANGO_WEBHOOK_* settings), and sends it.
import { X509Certificate } from 'node:crypto';
import type { TangoWebhookConfig } from '../tango/config.ts';
import type { TangoClient } from '../tango/client.ts';
import type { WebhookRegistrationRequest, WebhookRegistrationResponse } from '../tango/schemas.ts';

/** The registration request for `url`; the secret or certificate is the one the receiver checks. */
export function webhookRegistrationFor(url: string, webhook: TangoWebhookConfig): WebhookRegistrationRequest {
  // Tango's docs show both the newer and older field names; the shape is [unconfirmed], so send both.
  const base = { url, categories: ['ORDER'], eventTypes: ['AsyncOrderStatus'] };
  if (webhook.method === 'hmac') {
    if (!webhook.hmacSecret) {
      throw new Error('TANGO_WEBHOOK_HMAC_SECRET is required to register an HMAC webhook');
    }
    return { ...base, payloadVerificationMethod: 'HMAC', hmacSharedSecretKey: webhook.hmacSecret };
  }
  if (webhook.method === 'x509') {
    if (!webhook.certificate) {
      throw new Error('TANGO_WEBHOOK_CERTIFICATE is required to register an X509 webhook');
    }
    // Tango wants single-line base64 DER without the PEM armour.
    const der = new X509Certificate(webhook.certificate).raw.toString('base64');
    return { ...base, payloadVerificationMethod: 'X509', signingCertificate: der };
  }
  return { ...base, payloadVerificationMethod: 'NONE' };
}

export interface WebhookRegistrationResult {
  /** Tango's id for the subscription (needed to renew or replay it). */
  id: string | undefined;
  url: string;
  payloadVerificationMethod: WebhookRegistrationRequest['payloadVerificationMethod'];
  response: WebhookRegistrationResponse;
}

/** Registers `url` with Tango through POST /webhooks. */
export async function registerWebhook(
  tango: Pick<TangoClient, 'registerWebhook'>,
  url: string,
  webhook: TangoWebhookConfig,
): Promise<WebhookRegistrationResult> {
  const request = webhookRegistrationFor(url, webhook);
  const response = await tango.registerWebhook(request);
  return {
    id: response.id === undefined ? undefined : String(response.id),
    url,
    payloadVerificationMethod: request.payloadVerificationMethod,
    response,
  };
}

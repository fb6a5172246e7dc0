// Public API of the webhook receiver, re-exported by name.
export { startWebhookReceiver, noticeFromEvent, jsonLineLogger } from './receiver.ts';
export type {
  WebhookReceiverOptions,
  RunningWebhookReceiver,
  WebhookOutcome,
  WebhookLogger,
} from './receiver.ts';
export { loadWebhookConfig, WEBHOOK_DEFAULTS } from './config.ts';
export type { WebhookConfig } from './config.ts';
export { loadTemporalConnectConfig } from './temporal-connection.ts';
export type { TemporalConnectConfig } from './temporal-connection.ts';
export { webhookRegistrationFor, registerWebhook } from './registration.ts';
export type { WebhookRegistrationResult } from './registration.ts';
export { runWebhookCli, runRegisterWebhookCli } from './cli.ts';
export type { WebhookCliIo } from './cli.ts';

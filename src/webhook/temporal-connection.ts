// How the webhook receiver finds Temporal: the process-wide Temporal settings (src/config.ts:
// @temporalio/envconfig's TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, TOML
// profiles; local dev server by default), turned into @temporalio/client connection options.
import type { ConnectionOptions } from '@temporalio/client';
import { type Env, loadTemporalConfig } from '../config.ts';

export interface TemporalConnectConfig {
  connectionOptions: ConnectionOptions & { address: string };
  namespace: string;
}

/**
 * Reads the Temporal connection settings from `env` (pass process.env from the entry point);
 * address defaults to 127.0.0.1:7233, namespace to 'default'. Throws ConfigError naming the
 * variable to fix.
 */
export function loadTemporalConnectConfig(env: Env): TemporalConnectConfig {
  const { connection, namespace } = loadTemporalConfig(env);
  // The worker's NativeConnection options carry a few worker-only fields; a Client needs these.
  const connectionOptions: TemporalConnectConfig['connectionOptions'] = { address: connection.address };
  if (connection.apiKey !== undefined) connectionOptions.apiKey = connection.apiKey;
  if (connection.tls !== undefined) connectionOptions.tls = connection.tls;
  if (connection.metadata !== undefined) connectionOptions.metadata = connection.metadata;
  return { connectionOptions, namespace };
}

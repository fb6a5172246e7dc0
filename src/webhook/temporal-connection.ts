// How the webhook receiver finds Temporal: the standard environment/profile configuration
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, temporal.toml profiles) through
// @temporalio/envconfig, with the local dev server as the default.
import type { ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const LOCAL_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalConnectConfig {
  connectionOptions: ConnectionOptions;
  namespace: string;
}

/**
 * Reads the Temporal connection settings from `env` (pass process.env from the entry point) and
 * the profile file envconfig knows about; address defaults to 127.0.0.1:7233, namespace to
 * 'default'. Throws with envconfig's message when a profile or TLS file is unreadable.
 */
export function loadTemporalConnectConfig(env: Record<string, string | undefined>): TemporalConnectConfig {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars });
  } catch (error) {
    throw new Error(
      `cannot read the Temporal connection settings (TEMPORAL_* variables / TEMPORAL_CONFIG_FILE profile): ${(error as Error).message}`,
    );
  }
  const { address, apiKey, tls, metadata } = loaded.connectionOptions;
  const connectionOptions: ConnectionOptions = { address: address ?? LOCAL_TEMPORAL_ADDRESS };
  if (apiKey !== undefined) connectionOptions.apiKey = apiKey;
  if (tls !== undefined) connectionOptions.tls = tls;
  if (metadata !== undefined) connectionOptions.metadata = metadata;
  return { connectionOptions, namespace: loaded.namespace ?? 'default' };
}

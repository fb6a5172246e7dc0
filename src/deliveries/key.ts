// The deliveries index's HMAC key (DELIVERIES_INDEX_KEY): workers and clients that start campaigns must
// share it. A fixed development key stands in only where Tango is the local simulator.
import { ConfigError } from '../tango/config.ts';

/** Used when DELIVERIES_INDEX_KEY is unset and Tango is on loopback (the simulator): never in production. */
export const DEV_DELIVERIES_INDEX_KEY = 'tango-campaigns development deliveries-index key (loopback only)';

export function loadDeliveriesIndexKey(
  env: Record<string, string | undefined>,
  devAllowed: boolean,
): Buffer | undefined {
  const value = env.DELIVERIES_INDEX_KEY?.trim();
  if (value) {
    if (value.length < 16)
      throw new ConfigError(
        'DELIVERIES_INDEX_KEY',
        'must be at least 16 characters (e.g. `openssl rand -base64 32`)',
      );
    return Buffer.from(value, 'utf8');
  }
  return devAllowed ? Buffer.from(DEV_DELIVERIES_INDEX_KEY, 'utf8') : undefined;
}

// The Tango client of the operator commands. With OAuth it shares the workers' token through the
// store named by CAMPAIGN_STORE (encrypted with CODEC_KEYS), so a CLI call fetches no token of its
// own while the workers hold a valid one, and a token it fetches is the one they use next.
import { loadCodecConfig } from '../codec/aes-gcm-codec.ts';
import { loadStoreConfig, openStore } from '../store/open.ts';
import { storeTokenCacheFor } from '../store/token-cache.ts';
import { TangoClient } from '../tango/client.ts';
import type { TangoConfig } from '../tango/config.ts';

type Env = Record<string, string | undefined>;

export async function sharedTangoClient(config: TangoConfig, env: Env): Promise<TangoClient> {
  if (config.auth.kind !== 'oauth') return new TangoClient(config);
  const store = await openStore(loadStoreConfig(env).url);
  const tokenCache = storeTokenCacheFor(store, config.auth, {
    keys: loadCodecConfig(env).keys,
    holder: `cli-${process.pid}`,
  });
  return new TangoClient(config, tokenCache ? { tokenCache } : {});
}

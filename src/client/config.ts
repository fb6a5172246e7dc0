// The client's settings, read from an environment object (never from process.env itself): the
// Temporal connection the same way as the worker (src/config.ts), the task queue, store and codec.
import { type CodecConfig, loadCodecConfig } from '../codec/index.ts';
import { DEFAULT_TEMPORAL_ADDRESS, type TemporalConfig, loadTemporalConfig } from '../config.ts';
import { DEFAULT_TASK_QUEUE } from '../definitions.ts';
import { loadStoreConfig } from '../store/open.ts';
import { clientDeliveriesIndexKey } from './repeats.ts';

export interface CampaignClientConfig {
  /** From @temporalio/envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles. */
  connection: TemporalConfig['connection'];
  namespace: string;
  /** TEMPORAL_TASK_QUEUE (default `tango-campaigns`): where campaign workflows run. */
  taskQueue: string;
  /** CAMPAIGN_STORE (default file://.data/store). */
  storeUrl: string;
  codec: Pick<CodecConfig, 'keys'>;
  /** DELIVERIES_INDEX_KEY (the workers' key): the repeat-recipient check before a start. */
  deliveriesIndexKey?: Buffer;
}

export { DEFAULT_TEMPORAL_ADDRESS };

/** The client's settings from an environment object (TEMPORAL_*, CAMPAIGN_STORE, CODEC_KEYS). */
export function loadCampaignClientConfig(env: Record<string, string | undefined>): CampaignClientConfig {
  const temporal = loadTemporalConfig(env, env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE);
  return {
    connection: temporal.connection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    storeUrl: loadStoreConfig(env).url,
    codec: loadCodecConfig(env),
    ...withKey(clientDeliveriesIndexKey(env)),
  };
}

export const withKey = (key: Buffer | undefined) => (key ? { deliveriesIndexKey: key } : {});

// The claim-check store: its contract, the filesystem backend, JSON helpers, keys and configuration.
export {
  type CampaignStore,
  type StoreBody,
  StoreError,
  StoreNotFoundError,
  InvalidStoreKeyError,
  assertValidKey,
  assertValidPrefix,
} from './store.ts';
export { FileSystemStore } from './filesystem.ts';
export { MemoryStore, memoryStore } from './memory.ts';
export { StoreDataError, putJson, getJson, putJsonLines, readJsonLines } from './json.ts';
export {
  DEFAULT_STORE_URL,
  type StoreFactory,
  type StoreConfig,
  registerStoreScheme,
  registeredStoreSchemes,
  fileStoreDirectory,
  openStore,
  loadStoreConfig,
} from './open.ts';
export {
  InvalidCampaignIdError,
  isValidCampaignId,
  assertValidCampaignId,
  campaignPrefix,
  campaignItemsKey,
  orderRoundPrefix,
  reportCsvKey,
  reportJsonKey,
  campaignRegistryKey,
} from './keys.ts';
export {
  type RegistryEntry,
  type ClaimOutcome,
  registryEntrySchema,
  claimCampaignIdIn,
  readRegistryEntry,
  releaseCampaignId,
  completeRegistryEntry,
  campaignIdInUseMessage,
} from './campaign-registry.ts';

// The Tango simulator's public surface: start it in-process, read its ledger, tune its knobs.
export { startSimulator } from './server.ts';
export type { RunningSimulator, SimulatorStats, PreloadOrderRequest } from './server.ts';
export type { PreloadedOrder, ReversalInput } from './simulated-tango.ts';
export {
  simulatorOptionsSchema,
  SimulatorConfigError,
  type SimulatorOptions,
  type SimulatorOptionsInput,
  type SimulatorOptionsPatch,
  type ScriptedFault,
  type CatalogItemOption,
  type AccountOption,
} from './options.ts';
export type {
  Ledger,
  LedgerEntry,
  LedgerEntryState,
  LedgerDuplicates,
  LineItemDuplicate,
  RecipientDuplicate,
} from './ledger.ts';
export type { AsyncOrderStatusEvent, WebhookDeliveryRecord, WebhookSubscription } from './webhooks.ts';
export { SIMULATOR_CREDENTIAL_DEFAULTS, DEFAULT_ACCOUNTS, DEFAULT_CATALOG } from './defaults.ts';
export { runSimulatorCli } from './cli.ts';

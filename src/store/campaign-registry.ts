// The registry of campaign ids (ARCHITECTURE invariant 1): one entry per id ever used, created with
// createIfAbsent so that an id belongs to exactly one start, forever. Neither Temporal's retention (a
// deleted workflow frees its workflow id) nor Tango's idempotency window (90 days) can then let a second
// campaign reuse the first one's externalRefIDs.
import { z } from 'zod';
import { campaignRegistryKey } from './keys.ts';
import { getJson } from './json.ts';
import { type CampaignStore, StoreError, StoreNotFoundError } from './store.ts';

export const registryEntrySchema = z.object({
  campaignId: z.string(),
  /** Opaque: who owns the id (`client:<uuid>`, `workflow:<first run id>`). */
  claim: z.string(),
  workflowId: z.string(),
  /** The run that claimed it; a client claims before the run exists and adds it once started. */
  runId: z.string().optional(),
  /** ISO time of the claim. */
  startedAt: z.string(),
  startedBy: z.string().optional(),
});
export type RegistryEntry = z.infer<typeof registryEntrySchema>;

export type ClaimOutcome =
  /** The id is this claim's: just created, or created earlier by the same claim (a retry). */
  | { owned: true; entry: RegistryEntry }
  /** Another start holds the id. */
  | { owned: false; entry: RegistryEntry };

export async function readRegistryEntry(
  store: CampaignStore,
  campaignId: string,
): Promise<RegistryEntry | undefined> {
  try {
    return await getJson(store, campaignRegistryKey(campaignId), registryEntrySchema);
  } catch (error) {
    if (error instanceof StoreNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Claims the campaign id for `entry.claim`, unless another claim holds it. Never overwrites an entry.
 * Throws a StoreError when the store keeps answering "exists" for an entry it cannot read back.
 */
export async function claimCampaignIdIn(
  store: CampaignStore,
  entry: Omit<RegistryEntry, 'startedAt'> & { startedAt?: string },
): Promise<ClaimOutcome> {
  const key = campaignRegistryKey(entry.campaignId);
  const fresh: RegistryEntry = registryEntrySchema.parse({
    ...entry,
    startedAt: entry.startedAt ?? new Date().toISOString(),
  });
  for (let attempt = 0; attempt < 3; attempt += 1) {
    if (await store.createIfAbsent(key, JSON.stringify(fresh))) return { owned: true, entry: fresh };
    const existing = await readRegistryEntry(store, entry.campaignId);
    // Gone again: a concurrent conditional write that failed (S3's 409), or an owner releasing it.
    if (!existing) continue;
    return { owned: existing.claim === entry.claim, entry: existing };
  }
  throw new StoreError(
    `the registry entry ${key} in ${store.location} was reported as existing but could not be read; try again`,
  );
}

/** Adds what the owner learned after claiming (the run id); only the owner's own entry is changed. */
export async function completeRegistryEntry(
  store: CampaignStore,
  campaignId: string,
  claim: string,
  patch: Pick<RegistryEntry, 'runId'>,
): Promise<void> {
  const existing = await readRegistryEntry(store, campaignId);
  if (!existing || existing.claim !== claim) return;
  await store.put(campaignRegistryKey(campaignId), JSON.stringify({ ...existing, ...patch }));
}

/**
 * Frees the id again, only when `claim` holds it: for a start that failed before anything ran. Deleting
 * an entry by hand frees an id too, at the operator's own risk (docs/operations.md).
 */
export async function releaseCampaignId(
  store: CampaignStore,
  campaignId: string,
  claim: string,
): Promise<void> {
  const existing = await readRegistryEntry(store, campaignId);
  if (existing?.claim === claim) await store.delete(campaignRegistryKey(campaignId));
}

/** What a refused start is told: which campaign used the id, and when. */
export function campaignIdInUseMessage(entry: RegistryEntry): string {
  return (
    `campaign id "${entry.campaignId}" was used by an earlier campaign (workflow ${entry.workflowId}, ` +
    `started ${entry.startedAt}): campaign ids are never reused, choose another id`
  );
}

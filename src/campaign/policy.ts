// The worker's spending policy: a ceiling on each account's approval threshold (a campaign may ask for
// a lower one, never a higher one or none) and whether the approver must differ from the starter.
// Configuration of the worker (CAMPAIGN_POLICY_FILE, APPROVAL_THRESHOLD_FLOOR), never campaign input.
// The pure part is sandbox-safe: the workflow uses effectiveApprovalThreshold and sameIdentity.
import { z } from 'zod';

const amount = z.number().positive().finite();

export const campaignPolicySchema = z
  .object({
    /** Campaigns above this total wait for approval, whatever threshold they ask for. */
    approvalThresholdFloor: amount.optional(),
    /** Per account (Tango accountIdentifier): a floor of its own, which replaces the default one. */
    accounts: z.record(z.string().min(1), z.object({ approvalThresholdFloor: amount }).strict()).default({}),
    /** The approver must not be the campaign's starter (requestedBy). Default true. */
    requireDistinctApprover: z.boolean().default(true),
  })
  .strict();
export type CampaignPolicy = z.output<typeof campaignPolicySchema>;

/** What the policy says about one campaign, as the workflow records it (activity result, in history). */
export interface AppliedPolicy {
  /** The account's floor, or the default one; undefined: no floor. */
  approvalThresholdFloor?: number;
  requireDistinctApprover: boolean;
  /** Where the floor came from, for the status reason ("account acct-1", "default", "none"). */
  source: string;
}

export const DEFAULT_POLICY: CampaignPolicy = { accounts: {}, requireDistinctApprover: true };

export function policyForAccount(policy: CampaignPolicy, accountIdentifier: string): AppliedPolicy {
  const account = policy.accounts[accountIdentifier];
  if (account)
    return {
      approvalThresholdFloor: account.approvalThresholdFloor,
      requireDistinctApprover: policy.requireDistinctApprover,
      source: `account ${accountIdentifier}`,
    };
  return {
    ...(policy.approvalThresholdFloor !== undefined
      ? { approvalThresholdFloor: policy.approvalThresholdFloor }
      : {}),
    requireDistinctApprover: policy.requireDistinctApprover,
    source: policy.approvalThresholdFloor !== undefined ? 'default' : 'none',
  };
}

/** The lower of the campaign's threshold and the policy's floor (either may be absent). */
export function effectiveApprovalThreshold(
  campaignThreshold: number | undefined,
  policy: AppliedPolicy | undefined,
): number | undefined {
  const floor = policy?.approvalThresholdFloor;
  if (campaignThreshold === undefined) return floor;
  if (floor === undefined) return campaignThreshold;
  return Math.min(campaignThreshold, floor);
}

/** Identities compared the forgiving way: trimmed, case-insensitive. */
export function sameIdentity(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

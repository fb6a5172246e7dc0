// The worker's spending policy (src/campaign/policy.ts): loaded once from the environment at start,
// handed to each campaign by an activity so that it reaches the workflow deterministically (the
// result is in history; a policy changed later does not change a running campaign).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  type AppliedPolicy,
  type CampaignPolicy,
  DEFAULT_POLICY,
  campaignPolicySchema,
  policyForAccount,
} from '../campaign/policy.ts';
import { ConfigError } from '../tango/config.ts';

/**
 * CAMPAIGN_POLICY_FILE (JSON, campaignPolicySchema) and APPROVAL_THRESHOLD_FLOOR (the default floor
 * when the file sets none). Neither: no floor, distinct approver required.
 */
export function loadCampaignPolicy(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): CampaignPolicy {
  let policy: CampaignPolicy = DEFAULT_POLICY;
  const file = env.CAMPAIGN_POLICY_FILE?.trim();
  if (file) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path.resolve(cwd, file), 'utf8'));
    } catch (error) {
      throw new ConfigError(
        'CAMPAIGN_POLICY_FILE',
        `cannot read ${file} as JSON: ${(error as Error).message}`,
      );
    }
    const parsed = campaignPolicySchema.safeParse(value);
    if (!parsed.success)
      throw new ConfigError(
        'CAMPAIGN_POLICY_FILE',
        `${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ')}`,
      );
    policy = parsed.data;
  }
  const floor = env.APPROVAL_THRESHOLD_FLOOR?.trim();
  if (floor && policy.approvalThresholdFloor === undefined) {
    const value = Number(floor);
    if (!/^\d+(\.\d+)?$/.test(floor) || !(value > 0))
      throw new ConfigError(
        'APPROVAL_THRESHOLD_FLOOR',
        `must be a positive amount (got ${JSON.stringify(floor)})`,
      );
    policy = { ...policy, approvalThresholdFloor: value };
  }
  return policy;
}

export function createPolicyActivities(policy: CampaignPolicy = DEFAULT_POLICY) {
  /** What the worker's policy says about this campaign's account. */
  async function campaignPolicy(input: { accountIdentifier: string }): Promise<AppliedPolicy> {
    return policyForAccount(policy, input.accountIdentifier);
  }
  return { campaignPolicy };
}

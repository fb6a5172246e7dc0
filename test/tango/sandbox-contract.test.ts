// The client contract suite against the real Tango sandbox. It runs only when sandbox credentials
// are in the environment and is skipped, saying so, otherwise. Variables (TANGO_SANDBOX_ + the
// usual TANGO_ name): TANGO_SANDBOX_PLATFORM_NAME / _PLATFORM_KEY (basic) or TANGO_SANDBOX_AUTH=oauth
// with TANGO_SANDBOX_OAUTH_CLIENT_ID / _CLIENT_SECRET / _USERNAME / _PASSWORD; and
// TANGO_SANDBOX_CUSTOMER_IDENTIFIER, TANGO_SANDBOX_ACCOUNT_IDENTIFIER, TANGO_SANDBOX_UTID (a variable-
// value e-gift utid from the sandbox catalog); optional TANGO_SANDBOX_BASE_URL, _AMOUNT (default 1),
// _RECIPIENT_EMAIL (default contract-test@example.com).
import { describe } from 'node:test';
import { TANGO_SANDBOX_BASE_URL } from '../../src/tango/config.ts';
import { defineClientContract } from './helpers/contract.ts';

// The test's entry point is the one place that reads the real environment.
const sandbox = Object.fromEntries(
  Object.entries(process.env)
    .filter(([key]) => key.startsWith('TANGO_SANDBOX_'))
    .map(([key, value]) => [key.replace('TANGO_SANDBOX_', 'TANGO_'), value]),
);

const credentials =
  sandbox.TANGO_AUTH === 'oauth'
    ? ['TANGO_OAUTH_CLIENT_ID', 'TANGO_OAUTH_CLIENT_SECRET', 'TANGO_OAUTH_USERNAME', 'TANGO_OAUTH_PASSWORD']
    : ['TANGO_PLATFORM_NAME', 'TANGO_PLATFORM_KEY'];
const required = [...credentials, 'TANGO_CUSTOMER_IDENTIFIER', 'TANGO_ACCOUNT_IDENTIFIER', 'TANGO_UTID'];
const missing = required
  .filter((name) => !sandbox[name])
  .map((name) => name.replace('TANGO_', 'TANGO_SANDBOX_'));

const skip =
  missing.length > 0
    ? `Tango sandbox contract suite skipped: set ${missing.join(', ')} to run it against ${
        sandbox.TANGO_BASE_URL ?? TANGO_SANDBOX_BASE_URL
      }`
    : false;

// Tango documents a 1 TPS limit: keep at least 1.1 s between requests.
let last = 0;
async function pace(): Promise<void> {
  const wait = last + 1100 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  last = Date.now();
}

describe('Tango sandbox', { skip }, () => {
  defineClientContract({
    env: () => ({
      ...sandbox,
      TANGO_BASE_URL: sandbox.TANGO_BASE_URL ?? TANGO_SANDBOX_BASE_URL,
      // The contract suite does not receive webhooks.
      TANGO_WEBHOOK_VERIFICATION: 'none',
    }),
    customerIdentifier: () => sandbox.TANGO_CUSTOMER_IDENTIFIER!,
    accountIdentifier: () => sandbox.TANGO_ACCOUNT_IDENTIFIER!,
    utid: () => sandbox.TANGO_UTID!,
    amount: Number(sandbox.TANGO_AMOUNT ?? '1'),
    recipientEmail: () => sandbox.TANGO_RECIPIENT_EMAIL ?? 'contract-test@example.com',
    refPrefix: `tc-contract-${Date.now()}`,
    pace,
    finalWithinMs: 180_000,
  });
});

// The simulator's /_admin endpoints hand out the ledger and the configuration with its credentials:
// bound off loopback they are refused (403) unless an admin token guards them, and the token is
// never shown back. The Tango endpoints are unaffected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';
import { SIMULATOR_CREDENTIAL_DEFAULTS } from '../../src/simulator/defaults.ts';

const ADMIN_TOKEN = 'simulator-admin-token-0123456789';

/** The simulator's URL reached over 127.0.0.1, whatever interface it listens on. */
function local(sim: RunningSimulator, path: string): string {
  return `http://127.0.0.1:${sim.port}${path}`;
}

async function status(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers });
  return { status: response.status, text: await response.text() };
}

describe('simulator admin endpoints', () => {
  it('are refused with 403 when bound off loopback without an admin token', async () => {
    const sim = await startSimulator({ host: '0.0.0.0' });
    try {
      for (const path of ['/_admin/config', '/_admin/ledger', '/_admin/stats', '/_admin/webhooks']) {
        const answer = await status(local(sim, path));
        assert.equal(answer.status, 403, path);
        assert.match(answer.text, /only on loopback/);
        assert.ok(!answer.text.includes(SIMULATOR_CREDENTIAL_DEFAULTS.platformKey), 'no credential leaks');
      }
      const funds = await fetch(local(sim, '/_admin/accounts/sim-account-1/funds'), {
        method: 'POST',
        body: JSON.stringify({ amount: 1_000_000 }),
      });
      assert.equal(funds.status, 403);
      await funds.arrayBuffer();
      // Tango's own routes still answer as Tango would (401 without credentials, not 403).
      assert.equal((await status(local(sim, '/raas/v2/catalogs'))).status, 401);
    } finally {
      await sim.close();
    }
  });

  it('need the bearer token when one is set, and never show it back', async () => {
    const sim = await startSimulator({ host: '0.0.0.0', adminToken: ADMIN_TOKEN });
    try {
      assert.equal((await status(local(sim, '/_admin/config'))).status, 401);
      assert.equal(
        (await status(local(sim, '/_admin/config'), { authorization: 'Bearer wrong-token-0123456789' }))
          .status,
        401,
      );
      const shown = await status(local(sim, '/_admin/config'), { authorization: `Bearer ${ADMIN_TOKEN}` });
      assert.equal(shown.status, 200);
      assert.ok(!shown.text.includes(ADMIN_TOKEN), 'the token is not in the config view');
      assert.equal((JSON.parse(shown.text) as { adminToken?: string }).adminToken, '(set)');
      // It cannot be changed (or removed) at runtime.
      const change = await fetch(local(sim, '/_admin/config'), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ adminToken: 'another-token-0123456789' }),
      });
      assert.equal(change.status, 400);
      await change.arrayBuffer();
    } finally {
      await sim.close();
    }
  });

  it('stay open on loopback without a token (the local stack and the tests use them)', async () => {
    const sim = await startSimulator();
    try {
      assert.equal((await status(`${sim.adminUrl}/stats`)).status, 200);
    } finally {
      await sim.close();
    }
    await assert.rejects(
      startSimulator({ adminToken: 'short' }),
      /adminToken must be at least 16 characters/,
    );
  });
});

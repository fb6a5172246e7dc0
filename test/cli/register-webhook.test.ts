// `tango-campaigns register-webhook` registers with Tango (the simulator here) and then starts the
// renewal workflow for the new subscription id with its expiry; a renewal that cannot be started
// is reported and exits 1; --no-renew registers only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runRegisterWebhook, type StartRenewal } from '../../src/cli/register-webhook.ts';
import type { CliIo } from '../../src/cli/context.ts';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.ts';

function io(env: CliIo['env']) {
  let out = '';
  let err = '';
  const value: CliIo = {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    env,
    cwd: process.cwd(),
  };
  return { io: value, out: () => out, err: () => err };
}

describe('register-webhook starts the subscription renewal', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startSimulator({ webhooks: { subscriptionLifetimeSeconds: 3600 } });
  });
  after(() => sim.close());
  const env = () => ({ TANGO_BASE_URL: sim.baseUrl, TANGO_WEBHOOK_VERIFICATION: 'none' });

  it('starts webhookSubscriptionWorkflow with the new id, URL and expiry', async () => {
    const starts: Parameters<StartRenewal>[1][] = [];
    const cli = io(env());
    const code = await runRegisterWebhook(
      ['--url', 'http://127.0.0.1:9/hooks', '--json'],
      cli.io,
      async (_env, input) => {
        starts.push(input);
        return { workflowId: `webhook-subscription-${input.webhookId}`, started: true };
      },
    );
    assert.equal(code, 0, cli.err());
    const printed = JSON.parse(cli.out()) as {
      id: string;
      renewal: { workflowId: string; started: boolean };
    };
    assert.equal(starts.length, 1);
    assert.equal(starts[0]!.webhookId, printed.id);
    assert.equal(starts[0]!.url, 'http://127.0.0.1:9/hooks');
    assert.ok(Date.parse(starts[0]!.expiresAt!) > Date.now());
    assert.deepEqual(printed.renewal, { workflowId: `webhook-subscription-${printed.id}`, started: true });
  });

  it('exits 1 and says so when the renewal cannot be started; --no-renew does not try', async () => {
    const cli = io(env());
    const code = await runRegisterWebhook(['--url', 'http://127.0.0.1:9/hooks'], cli.io, () =>
      Promise.reject(new Error('Temporal unreachable')),
    );
    assert.equal(code, 1);
    assert.match(cli.out(), /renewal: NOT started \(Temporal unreachable\)/);
    assert.match(cli.err(), /will not be renewed/);

    const quiet = io(env());
    let called = false;
    const skipped = await runRegisterWebhook(
      ['--url', 'http://127.0.0.1:9/hooks', '--no-renew'],
      quiet.io,
      async () => {
        called = true;
        return { workflowId: 'x', started: true };
      },
    );
    assert.equal(skipped, 0);
    assert.equal(called, false);
  });
});

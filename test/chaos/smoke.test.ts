// The CI version of the fault-injection suite (`npm run chaos -- --quick` for these three): a real
// worker process SIGKILLed mid-campaign, a storm of Tango 5xx, and every webhook lost. Each runs a
// real campaign on the dev server and must end with nobody paid twice and every item accounted for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scenarios, type ScenarioResult } from '../../chaos/scenarios.ts';

function scenario(name: string) {
  const found = scenarios.find((candidate) => candidate.name === name);
  assert.ok(found, `no chaos scenario named ${name}`);
  return found;
}

function assertHeld(result: ScenarioResult): void {
  const broken = result.invariants.filter((invariant) => !invariant.ok);
  assert.deepEqual(
    broken.map((invariant) => `${invariant.name}: ${invariant.detail}`),
    [],
    `${result.name}: invariants broken`,
  );
  assert.ok(result.ok);
}

// Each scenario starts its own dev server and worker process: allow for a busy CI machine.
const timeout = 180_000;

// A worker SIGKILLed mid-campaign is not here: it waits out an activity timeout (about a minute);
// test/scale/multi-worker.test.ts kills a worker in the suite, and `npm run chaos` runs worker-kill.
describe('chaos smoke (small sizes)', () => {
  it('20% Tango 5xx: every item accounted for, nobody paid twice', { timeout }, async () => {
    const result = await scenario('tango-5xx').run('quick', () => {});
    assertHeld(result);
    assert.ok((result.faultsInjected['5xx answers'] ?? 0) > 0, 'the storm injected no 5xx');
  });

  it('every webhook lost: polling completes the campaign', { timeout }, async () => {
    const result = await scenario('webhooks-lost').run('quick', () => {});
    assertHeld(result);
    assert.ok((result.faultsInjected['webhooks dropped'] ?? 0) > 0);
  });
});

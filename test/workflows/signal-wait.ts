// A minimal workflow for proving the Temporal servers work: waits for a signal, or gives up after days.
import { condition, defineSignal, setHandler } from '@temporalio/workflow';

export const releaseSignal = defineSignal<[string]>('release');

export async function waitForReleaseWorkflow(timeout: string): Promise<string> {
  let releasedBy: string | undefined;
  setHandler(releaseSignal, (who) => {
    releasedBy = who;
  });
  const released = await condition(() => releasedBy !== undefined, timeout);
  return released ? `released by ${releasedBy}` : `timed out after ${timeout}`;
}

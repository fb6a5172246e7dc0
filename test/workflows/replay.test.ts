// Replays the saved histories of representative campaigns (scripts/record-histories.ts) against the
// current workflow code: a change that breaks determinism for running campaigns fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/campaign-stack.ts';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'histories');
const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

describe('replay of saved histories', () => {
  it('has histories of a campaign and its orders', () => {
    assert.ok(files.some((file) => file.startsWith('campaign-')));
    assert.ok(files.filter((file) => file.startsWith('tango-order-')).length >= 2);
  });

  for (const file of files) {
    it(`replays ${file} deterministically`, async () => {
      // fromObject of the proto package the SDK uses (historyFromJSON trips over a second protobufjs copy).
      const history = proto.temporal.api.history.v1.History.fromObject(
        JSON.parse(readFileSync(path.join(dir, file), 'utf8')),
      );
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle() },
        history,
        file.replace(/\.json$/, ''),
      );
    });
  }
});

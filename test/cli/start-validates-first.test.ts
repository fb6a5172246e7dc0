// `start` as a new user meets it with Temporal down: a bad file is reported at once, by file, row and
// field (a malformed email, an empty deliveryMethod cell), before any connection; a good file gets
// as far as connecting and reports Temporal unreachable (exit 4).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';

describe('start with Temporal unreachable', () => {
  let dir: string;
  const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', CAMPAIGN_STORE: '' };
  const header = 'externalRefLineItemID,firstName,lastName,email,utid,amount,deliveryMethod';

  const start = async (file: string, extra: string[] = []) => {
    let stdout = '';
    let stderr = '';
    const code = await main(
      ['start', file, '--customer', 'c', '--account', 'acct-1', '--campaign', 'Rewards', ...extra],
      {
        stdout: { write: (text: string) => (stdout += text), isTTY: false },
        stderr: { write: (text: string) => (stderr += text) },
        env: { ...env, CAMPAIGN_STORE: `file://${path.join(dir, 'store')}` },
        cwd: dir,
      },
    );
    return { code, stdout, stderr };
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tango-start-first-'));
    writeFileSync(
      path.join(dir, 'rewards.csv'),
      `${header}\nr-1,Ana,Lima,not-an-email,U000001,25,EMAIL\nr-2,Bo,Ng,bo@example.com,U000001,25,\n`,
    );
    writeFileSync(path.join(dir, 'good.csv'), `${header}\ng-1,Ana,Lima,ana@example.com,U000001,25,EMAIL\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reports the file's problems, not Temporal, and exits 1", async () => {
    const file = path.join(dir, 'rewards.csv');
    const result = await start('rewards.csv');
    assert.equal(result.code, 1, result.stderr);
    assert.doesNotMatch(result.stderr, /Temporal/);
    assert.ok(
      result.stderr.includes(
        `${file}, row 2, field email: recipient.email the text "not-an-email" is not an email address`,
      ),
      result.stderr,
    );
    assert.ok(
      result.stderr.includes(`${file}, row 3, field deliveryMethod: deliveryMethod is missing\n`),
      result.stderr,
    );
  });

  it('lists the problems in --json output too', async () => {
    const result = await start('rewards.csv', ['--json']);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout) as {
      ok: boolean;
      error: { kind: string; problems: { row: number; field: string; message: string }[] };
    };
    assert.equal(body.ok, false);
    assert.equal(body.error.kind, 'invalid-input');
    assert.deepEqual(
      body.error.problems.map((problem) => [problem.row, problem.field]),
      [
        [2, 'email'],
        [3, 'deliveryMethod'],
      ],
    );
  });

  it('connects only once the file is valid (and says Temporal is unreachable, exit 4)', async () => {
    const result = await start('good.csv');
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
  });
});

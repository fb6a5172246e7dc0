// Every operator command of `tango-campaigns`, run in-process (main() with captured output) against one
// shared stack: dev server, simulator, worker and a filesystem store. Exit codes are part of the
// contract: 0 ok, 1 invalid/failed, 2 usage, 3 not found, 4 Temporal unreachable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { CampaignClient } from '../../src/client/index.ts';
import { DEFAULT_ACCOUNTS } from '../../src/simulator/defaults.ts';
import type { CampaignProgress } from '../../src/workflows/types.ts';
import { type CampaignStack, startCampaignStack } from '../helpers/campaign-stack.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const fastOptions = {
  pollInitial: '300ms',
  pollMax: '1s',
  resubmitDelay: '100ms',
  correctionWindow: '1h',
  chunkSize: 5,
  maxConcurrentOrders: 4,
};

const operatorCommands = [
  'funds-added',
  'validate',
  'start',
  'status',
  'watch',
  'failures',
  'correct',
  'skip',
  'update-metadata',
  'pause',
  'resume',
  'cancel',
  'approve',
  'reject',
  'set-threshold',
  'report',
  'setup',
];
const scheduleCommands = ['create', 'list', 'describe', 'pause', 'unpause', 'trigger', 'delete'];

function csvFile(dir: string, name: string, rows: string[][]): string {
  const file = path.join(dir, name);
  writeFileSync(file, rows.map((row) => row.join(',')).join('\n') + '\n');
  return file;
}

const header = [
  'externalRefLineItemID',
  'firstName',
  'lastName',
  'email',
  'utid',
  'amount',
  'deliveryMethod',
];
const row = (id: string, amount = '25', utid = 'U000001', method = 'EMAIL') => [
  id,
  'Pat',
  `Recipient ${id}`,
  `${id}@example.test`,
  utid,
  amount,
  method,
];

describe('tango-campaigns operator commands', () => {
  let stack: CampaignStack;
  let dir: string;
  let env: Record<string, string>;

  const run = async (
    argv: string[],
    options: { env?: Record<string, string>; tty?: boolean } = {},
  ): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, {
      stdout: { write: (text: string) => (stdout += text), isTTY: options.tty ?? false },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...env, ...options.env },
      cwd: dir,
    });
    return { code, stdout, stderr };
  };
  const ok = async (argv: string[], options?: Parameters<typeof run>[1]) => {
    const result = await run(argv, options);
    assert.equal(result.code, 0, `${argv.join(' ')} failed: ${result.stderr}${result.stdout}`);
    return result;
  };
  const json = async <T = Record<string, unknown>>(argv: string[]) =>
    JSON.parse((await ok([...argv, '--json'])).stdout) as T;
  // A running campaign reports its progress, a finished one its result (same status and counts).
  const progressOf = async (id: string) => {
    const status = await json<{ progress?: CampaignProgress; result?: CampaignProgress }>(['status', id]);
    return (status.progress ?? status.result)!;
  };
  const waitFor = async (id: string, until: (progress: CampaignProgress) => boolean) => {
    const deadline = Date.now() + 60_000;
    let last: CampaignProgress | undefined;
    while (Date.now() < deadline) {
      last = await progressOf(id);
      if (until(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out waiting on ${id}: ${JSON.stringify(last)}`);
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tango-cli-'));
    stack = await startCampaignStack({
      taskQueue: 'cli-test',
      simulator: {
        accounts: [
          ...DEFAULT_ACCOUNTS,
          { customerIdentifier: 'sim-customer', accountIdentifier: 'sim-account-poor', balance: 10 },
        ],
      },
    });
    await stack.startWorker();
    env = {
      TEMPORAL_ADDRESS: stack.env.address,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      CAMPAIGN_STORE: `file://${stack.storeDir}`,
      TANGO_BASE_URL: stack.simulator.baseUrl,
    };
    writeFileSync(path.join(dir, 'options.json'), JSON.stringify(fastOptions));
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help for every command and refuses bad command lines with exit 2', async () => {
    const top = await run(['--help']);
    assert.equal(top.code, 0);
    for (const name of operatorCommands) assert.match(top.stdout, new RegExp(`\\n  ${name} `));
    for (const name of operatorCommands) {
      const help = await ok([name, '--help']);
      assert.match(help.stdout, new RegExp(`^Usage: tango-campaigns ${name}`), name);
      assert.match(help.stdout, /--json/);
    }
    for (const name of scheduleCommands) {
      const help = await ok(['schedule', name, '--help']);
      assert.match(help.stdout, new RegExp(`^Usage: tango-campaigns schedule ${name}`), name);
    }
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['launch'])).code, 2);
    const missing = await run(['start', 'file.csv', '--account', 'a', '--campaign', 'c']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--customer is required/);
    const unknownFlag = await run(['status', 'x', '--colour']);
    assert.equal(unknownFlag.code, 2);
    assert.match(unknownFlag.stderr, /--colour/);
    assert.equal((await run(['skip', 'only-an-id', '--reason', 'r'])).code, 2);
    assert.equal((await run(['schedule', 'launch'])).code, 2);
  });

  it('validate: checks every row, optionally against the catalog and the balance; nothing is sent', async () => {
    const file = csvFile(dir, 'validate.csv', [
      header,
      row('v-1'),
      row('v-2', '600'),
      row('v-3', '25', 'U000002', 'EMAIL'),
    ]);
    const plain = await ok(['validate', 'validate.csv']);
    assert.match(plain.stdout, /OK: 3 line item\(s\), total amount 650; nothing was sent/);

    const catalog = await run(['validate', file, '--catalog']);
    assert.equal(catalog.code, 1);
    assert.match(catalog.stdout, /row 3, field amount: amount 600 is above U000001's maximum 500/);
    assert.match(catalog.stdout, /row 4, field deliveryMethod: utid U000002 cannot be delivered by EMAIL/);

    const balance = await run(['validate', file, '--balance', '--account', 'sim-account-1', '--json']);
    assert.equal(balance.code, 0);
    const report = JSON.parse(balance.stdout) as { ok: boolean; balance: { covers: boolean }; items: number };
    assert.equal(report.ok, true);
    assert.equal(report.balance.covers, true);
    assert.equal(report.items, 3);

    const bad = csvFile(dir, 'bad.csv', [header, row('b-1'), row('b-2', 'ten'), row('b-1')]);
    const invalid = await run(['validate', bad]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stdout, /row 3, field amount: amount "ten" is not a number/);
    assert.match(invalid.stdout, /row 4, field externalRefLineItemID/);
    assert.match(invalid.stdout, /INVALID/);
    assert.equal((await run(['validate', 'missing.csv'])).code, 1);
    assert.equal((await run(['validate', file, '--balance'])).code, 2);
    assert.equal(stack.simulator.ledger.size, 0, 'validate sends nothing');
  });

  it('start, status, pause, resume, failures, correct, skip, update-metadata, watch and report one campaign', async () => {
    csvFile(dir, 'wellness.csv', [
      header,
      ...Array.from({ length: 6 }, (_, index) => row(`w-${index}`)),
      row('w-high-1', '600'),
      row('w-high-2', '700'),
      row('w-high-3', '800'),
    ]);
    const startArgs = [
      'start',
      'wellness.csv',
      '--customer',
      'sim-customer',
      '--account',
      'sim-account-1',
      '--campaign',
      'Wellness Week 12',
      '--options',
      'options.json',
    ];
    const started = await json<{ campaignId: string; items: number }>(startArgs);
    assert.match(started.campaignId, /^wellness-wellness-week-12-[0-9a-f]{10}$/);
    assert.equal(started.items, 9);
    const id = started.campaignId;

    // The same file under the same name is the same campaign: refused, not run twice.
    const again = await run(startArgs);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);

    const status = await ok(['status', id]);
    assert.match(status.stdout, new RegExp(`Campaign ${id}: `));
    const notFound = await run(['status', 'no-such-campaign', '--json']);
    assert.equal(notFound.code, 3);
    assert.equal((JSON.parse(notFound.stdout) as { error: { kind: string } }).error.kind, 'not-found');

    await waitFor(
      id,
      (progress) => progress.counts.awaitingCorrection === 3 && progress.counts.submitted === 0,
    );

    await ok(['pause', id, '--reason', 'checking']);
    await waitFor(id, (progress) => progress.status === 'paused');
    await ok(['resume', id]);
    await waitFor(id, (progress) => progress.status === 'running');

    const table = await ok(['failures', id]);
    assert.match(table.stdout, /3 awaiting correction, 0 awaiting funds, 0 given up/);
    assert.match(table.stdout, /w-high-1\s+awaiting-correction\s+needs-correction\s+AMOUNT_OUT_OF_RANGE/);
    const listed = await json<{ items: { externalRefLineItemID: string }[] }>(['failures', id]);
    assert.deepEqual(listed.items.map((item) => item.externalRefLineItemID).sort(), [
      'w-high-1',
      'w-high-2',
      'w-high-3',
    ]);

    // The CSV export has the input's columns and goes straight back into `correct` once edited.
    await ok(['failures', id, '--csv', 'fix.csv']);
    const exported = readFileSync(path.join(dir, 'fix.csv'), 'utf8').trim().split('\n');
    assert.equal(exported[0], header.join(','));
    assert.equal(exported.length, 4);
    const edited = exported
      .filter((line) => !line.startsWith('w-high-2') && !line.startsWith('w-high-3'))
      .map((line) => line.replace(',600,', ',60,'));
    writeFileSync(path.join(dir, 'fix.csv'), edited.join('\n') + '\n');
    const validated = await ok(['validate', 'fix.csv']);
    assert.match(validated.stdout, /OK: 1 line item/);
    const bogus = csvFile(dir, 'bogus.csv', [header, row('not-in-campaign')]);
    const refused = await run(['correct', id, bogus]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not-in-campaign/);
    const corrected = await ok(['correct', id, 'fix.csv']);
    assert.match(corrected.stdout, /Accepted 1 correction/);
    // JSON corrections name only the fields that change.
    writeFileSync(
      path.join(dir, 'fix.json'),
      JSON.stringify([{ externalRefLineItemID: 'w-high-3', amount: 80 }]),
    );
    assert.match((await ok(['correct', id, 'fix.json'])).stdout, /Accepted 1 correction/);

    assert.equal((await run(['skip', id, 'w-high-2'])).code, 2, '--reason is required');
    await ok(['skip', id, 'w-high-2', '--reason', 'recipient left']);

    assert.equal((await run(['update-metadata', id])).code, 2);
    const patched = await ok(['update-metadata', id, '--notes', 'week 12 payout']);
    assert.match(patched.stdout, /order\(s\) patched/);

    const watched = await ok(['watch', id, '--interval', '0.2']);
    assert.match(watched.stdout, /ended completed: 9 items, 8 delivered, 1 given up/);
    assert.doesNotMatch(watched.stdout, /\r/, 'plain lines when stdout is not a terminal');

    const summary = await ok(['report', id]);
    assert.match(summary.stdout, /9 item\(s\)/);
    assert.match(summary.stdout, /delivered: 8/);
    assert.match(summary.stdout, /given-up: 1/);
    await ok(['report', id, '--csv', '--out', 'report.csv']);
    const csv = readFileSync(path.join(dir, 'report.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 10);
    assert.match(csv[0]!, /^externalRefLineItemID,state,reason/);
    const full = JSON.parse((await ok(['report', id, '--json'])).stdout) as { items: { state: string }[] };
    assert.equal(full.items.length, 9);
    const finished = await ok(['status', id]);
    assert.match(finished.stdout, /ended completed: 9 items/);
    assert.equal((await run(['report', id, '--csv', '--json'])).code, 2);

    // Given-up items of a finished campaign are still listed; a closed campaign refuses operator input.
    const closedFailures = await json<{ closed: boolean; items: { externalRefLineItemID: string }[] }>([
      'failures',
      id,
    ]);
    assert.equal(closedFailures.closed, true);
    assert.match((await ok(['failures', id])).stderr, /has ended: .*takes no corrections/);
    assert.deepEqual(
      closedFailures.items.map((item) => item.externalRefLineItemID),
      ['w-high-2'],
    );
    const closed = await run(['pause', id]);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /is closed \(completed\)/);
    assert.deepEqual(stack.simulator.ledger.duplicates().lineItems, []);
  });

  it('approve, set-threshold, reject and cancel campaigns waiting for approval', async () => {
    const file = csvFile(dir, 'bonus.csv', [header, row('bonus-1'), row('bonus-2')]);
    const startWaiting = async (id: string) => {
      await ok([
        'start',
        file,
        '--id',
        id,
        '--customer',
        'sim-customer',
        '--account',
        'sim-account-1',
        '--campaign',
        'Bonus',
        '--options',
        'options.json',
        '--approval-threshold',
        '10',
      ]);
      await waitFor(id, (progress) => progress.status === 'awaiting-approval');
    };

    await startWaiting('bonus-approved');
    assert.equal((await run(['set-threshold', 'bonus-approved'])).code, 2);
    await ok(['set-threshold', 'bonus-approved', '--percent', '20']);
    assert.equal((await run(['approve', 'bonus-approved'])).code, 2, '--approver is required');
    // Watched on a terminal from before the approval: a live bar redrawn in place.
    const live = run(['watch', 'bonus-approved', '--interval', '0.2'], { tty: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const approved = await ok(['approve', 'bonus-approved', '--approver', 'Dana']);
    assert.match(approved.stdout, /approved by Dana/);
    const watched = await live;
    assert.equal(watched.code, 0, watched.stderr);
    assert.ok(watched.stdout.includes('\r\x1b[2K['), 'the bar is redrawn in place');
    assert.match(watched.stdout, /\[[#-]{30}\]\s+\d+% awaiting-approval: 0\/2 settled/);
    assert.match(watched.stdout, /ended completed/);
    await waitFor('bonus-approved', (progress) => progress.status !== 'awaiting-approval');
    const again = await run(['approve', 'bonus-approved', '--approver', 'Dana']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /is closed \(completed\): cannot be approved/);

    await startWaiting('bonus-rejected');
    await ok(['reject', 'bonus-rejected', '--approver', 'Dana', '--reason', 'over budget']);
    const rejected = await run(['watch', 'bonus-rejected', '--interval', '0.2']);
    assert.equal(rejected.code, 1, 'a rejected campaign is not a success');
    assert.match(rejected.stdout, /ended rejected/);

    await startWaiting('bonus-cancelled');
    const cancelled = await ok(['cancel', 'bonus-cancelled']);
    assert.match(cancelled.stdout, /Cancellation requested/);
    const ended = await run(['watch', 'bonus-cancelled', '--interval', '0.2', '--json']);
    assert.equal(ended.code, 1);
    const last = JSON.parse(ended.stdout.trim().split('\n').at(-1)!) as {
      event: string;
      result: { status: string };
    };
    assert.equal(last.event, 'ended');
    assert.equal(last.result.status, 'cancelled');
  });

  it('start --wait returns the result; invalid files are refused before anything starts', async () => {
    const file = csvFile(dir, 'quick.csv', [header, row('q-1'), row('q-2')]);
    const waited = await run([
      'start',
      file,
      '--id',
      'quick',
      '--customer',
      'sim-customer',
      '--account',
      'sim-account-1',
      '--campaign',
      'Quick',
      '--options',
      'options.json',
      '--wait',
      '--json',
    ]);
    assert.equal(waited.code, 0, waited.stderr);
    const result = (
      JSON.parse(waited.stdout) as { result: { status: string; counts: { delivered: number } } }
    ).result;
    assert.equal(result.status, 'completed');
    assert.equal(result.counts.delivered, 2);

    const bad = csvFile(dir, 'broken.csv', [header, row('x-1', '-5')]);
    const refused = await run([
      'start',
      bad,
      '--id',
      'broken',
      '--customer',
      'sim-customer',
      '--account',
      'sim-account-1',
      '--campaign',
      'Broken',
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /row 2, field amount/);
    assert.equal((await run(['status', 'broken'])).code, 3, 'nothing was started');

    // A campaign whose workflow failed (started by a service with an item the CLI would have refused).
    const service = new CampaignClient({ client: stack.env.client, taskQueue: stack.taskQueue });
    await service.startCampaign({
      campaignId: 'failed-staging',
      customerIdentifier: 'sim-customer',
      accountIdentifier: 'sim-account-1',
      items: {
        inline: [{ externalRefLineItemID: 'x', utid: 'U000001', amount: -1, deliveryMethod: 'NONE' }],
      },
    });
    const failed = await run(['watch', 'failed-staging', '--interval', '0.2']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /campaign "failed-staging" failed: .*amount/);
    const failedStatus = await run(['status', 'failed-staging']);
    assert.equal(failedStatus.code, 1);
    assert.match(failedStatus.stderr, /item 1 amount/);
  });

  it('funds-added: a campaign waiting for funds goes on once told the account was topped up', async () => {
    const file = csvFile(dir, 'funds.csv', [header, row('f-1'), row('f-2')]);
    const poor = await run(['validate', file, '--balance', '--account', 'sim-account-poor']);
    assert.equal(poor.code, 1);
    assert.match(poor.stdout, /Balance of sim-account-poor: 10 does NOT cover the total 50/);
    writeFileSync(
      path.join(dir, 'funds-options.json'),
      JSON.stringify({ ...fastOptions, fundsCheckInterval: '1h' }),
    );
    await ok([
      'start',
      file,
      '--id',
      'funds',
      '--customer',
      'sim-customer',
      '--account',
      'sim-account-poor',
      '--campaign',
      'Funds',
      '--options',
      'funds-options.json',
    ]);
    await waitFor('funds', (progress) => progress.status === 'awaiting-funds');
    stack.simulator.addFunds('sim-account-poor', 100);
    // Without the signal the next balance check is an hour away.
    await ok(['funds-added', 'funds', '--amount', '100', '--note', 'wire received']);
    const watched = await ok(['watch', 'funds', '--interval', '0.2']);
    assert.match(watched.stdout, /ended completed: 2 items, 2 delivered/);
    assert.equal((await run(['funds-added', 'funds'])).code, 1, 'closed campaigns take no funds notice');
  });

  it('schedule create, list, describe, pause, unpause, trigger and delete', async () => {
    const source = path.resolve('test/fixtures/inputs/good/minimal.csv');
    const created = await ok([
      'schedule',
      'create',
      'cli-weekly',
      '--source',
      source,
      '--customer',
      'sim-customer',
      '--account',
      'sim-account-1',
      '--day',
      'friday',
      '--time',
      '16:45',
      '--timezone',
      'America/New_York',
      '--paused',
    ]);
    assert.match(created.stdout, /every FRIDAY at 16:45 America\/New_York \(paused\)/);
    assert.equal(
      (
        await run([
          'schedule',
          'create',
          'x',
          '--source',
          source,
          '--customer',
          'c',
          '--account',
          'acct1',
          '--day',
          'someday',
        ])
      ).code,
      2,
    );
    const described = await json<{ schedule: { paused: boolean; input: { source: { location: string } } } }>([
      'schedule',
      'describe',
      'cli-weekly',
    ]);
    assert.equal(described.schedule.paused, true);
    assert.equal(described.schedule.input.source.location, source);
    await ok(['schedule', 'unpause', 'cli-weekly']);
    await ok(['schedule', 'pause', 'cli-weekly']);
    await ok(['schedule', 'trigger', 'cli-weekly']);
    let listed = '';
    for (let attempt = 0; attempt < 50 && !listed.includes('cli-weekly'); attempt += 1) {
      listed = (await ok(['schedule', 'list'])).stdout;
      if (!listed.includes('cli-weekly')) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.match(listed, /cli-weekly\s+paused/);
    await ok(['schedule', 'delete', 'cli-weekly']);
    const gone = await run(['schedule', 'describe', 'cli-weekly']);
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /no schedule "cli-weekly"/);
  });

  it('setup registers the search attributes once and is idempotent', async () => {
    await stack.env.connection.workflowService.registerNamespace({
      namespace: 'cli-setup',
      // protobufjs takes a plain number where the generated type says Long.
      workflowExecutionRetentionPeriod: { seconds: 86_400 as never },
    });
    const first = await json<{ added: string[]; alreadyRegistered: string[] }>(['setup']);
    assert.equal(first.added.length, 0, 'the stack registered them already');
    const fresh = JSON.parse(
      (await ok(['setup', '--json'], { env: { TEMPORAL_NAMESPACE: 'cli-setup' } })).stdout,
    ) as { added: string[]; alreadyRegistered: string[] };
    assert.ok(fresh.added.includes('CampaignId'), JSON.stringify(fresh));
    const repeat = JSON.parse(
      (await ok(['setup', '--json'], { env: { TEMPORAL_NAMESPACE: 'cli-setup' } })).stdout,
    ) as { added: string[]; alreadyRegistered: string[] };
    assert.deepEqual(repeat.added, []);
    assert.deepEqual(repeat.alreadyRegistered.sort(), fresh.added.sort());
  });

  it('exit 4 when Temporal is unreachable, and the package bin runs the same commands', async () => {
    const unreachable = await run(['status', 'anything'], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(unreachable.code, 4);
    assert.match(unreachable.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);

    const bin = path.resolve('bin/tango-campaigns.js');
    const spawned = spawnSync(process.execPath, [bin, 'status', 'no-such-campaign'], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    assert.equal(spawned.status, 3, spawned.stderr);
    assert.match(spawned.stderr, /no campaign "no-such-campaign"/);
  });
});

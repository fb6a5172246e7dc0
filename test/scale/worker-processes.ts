// Worker processes as a fleet runs them: `tango-campaigns worker` children, each in its own empty
// working directory (no shared disk), configured only by environment, with their JSON logs parsed to
// tell which activities each one ran and which it still holds.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const projectRoot = path.join(import.meta.dirname, '..', '..');
const mainScript = path.join(projectRoot, 'src', 'cli', 'main.ts');
// Resolved here: the child's cwd is an empty directory where `--import tsx` would not resolve.
const tsxLoader = import.meta.resolve('tsx');

export interface WorkerProcess {
  readonly name: string;
  readonly cwd: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Activities this worker finished (completed or failed), from its debug log. */
  activitiesFinished(): number;
  /** Activities it started and has not finished: what a SIGKILL would strand until their timeout. */
  activitiesInFlight(): number;
  /** Ends the process with `signal` and waits for it; removes its working directory. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

interface LogRecord {
  msg?: string;
  workflowRunId?: string;
  activityId?: string;
  attempt?: number;
}

export function spawnWorkerProcess(name: string, env: Record<string, string>): WorkerProcess {
  const cwd = mkdtempSync(path.join(tmpdir(), `tango-campaigns-${name}-`));
  let output = '';
  let partial = '';
  const inFlight = new Set<string>();
  let finished = 0;
  const onLine = (line: string) => {
    if (!line.startsWith('{')) return;
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      return;
    }
    if (!record.msg?.startsWith('Activity ') || record.activityId === undefined) return;
    const key = `${record.workflowRunId}/${record.activityId}/${record.attempt}`;
    if (record.msg === 'Activity started') inFlight.add(key);
    else if (inFlight.delete(key)) finished += 1;
  };
  const child = spawn(process.execPath, ['--import', tsxLoader, mainScript, 'worker'], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TSX_TSCONFIG_PATH: path.join(projectRoot, 'tsconfig.json'),
      LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    cwd,
    child,
    exited,
    output: () => output,
    activitiesFinished: () => finished,
    activitiesInFlight: () => inFlight.size,
    async stop(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/** Waits until the worker logs `pattern`; fails with its output if it exits or takes too long. */
export async function waitForLog(worker: WorkerProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(worker.output())) {
    if (Date.now() > deadline || worker.child.exitCode !== null)
      throw new Error(
        `worker ${worker.name} never logged ${pattern}; its output:\n${worker.output().slice(-4000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

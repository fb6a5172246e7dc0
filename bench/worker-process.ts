// The campaign worker of a benchmark run, in its own process so that its memory can be measured
// alone: `node --import tsx bench/worker-process.ts '<json settings>'`. Prints "ready" once polling;
// SIGTERM shuts it down gracefully.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { FileSystemStore } from '../src/store/filesystem.ts';
import { TangoClient } from '../src/tango/client.ts';
import { loadTangoConfig } from '../src/tango/config.ts';
import { createCampaignWorker } from '../src/worker-factory.ts';

export const workerSettingsSchema = z.object({
  temporalAddress: z.string().min(1),
  taskQueue: z.string().min(1),
  storeDir: z.string().min(1),
  tangoBaseUrl: z.string().url(),
  /** A workflow bundle written by bundleWorkflowCode, so that each worker skips the bundling. */
  bundlePath: z.string().min(1),
});
export type WorkerSettings = z.infer<typeof workerSettingsSchema>;

async function main(raw: string | undefined): Promise<void> {
  if (!raw) throw new Error('bench/worker-process.ts needs its settings as one JSON argument');
  const settings = workerSettingsSchema.parse(JSON.parse(raw));
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: settings.temporalAddress });
  const worker = await createCampaignWorker({
    connection,
    taskQueue: settings.taskQueue,
    store: new FileSystemStore(settings.storeDir),
    tango: new TangoClient(
      loadTangoConfig({ TANGO_BASE_URL: settings.tangoBaseUrl, TANGO_TIMEOUT_MS: '30000' }),
    ),
    workflowBundle: { codePath: settings.bundlePath },
  });
  const stop = () => worker.shutdown();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
  await connection.close();
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(
    `bench worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});

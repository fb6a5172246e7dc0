// Long-running commands (simulator, webhook receiver) stop on the first SIGINT or SIGTERM.

/** Resolves with the name of the first SIGINT or SIGTERM, then stops listening. */
export function waitForShutdownSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}

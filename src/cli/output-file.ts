// Files the CLI writes for an operator (failures --csv, report --out) hold recipients' data: they are
// created 0600, never written through a symlink, and an existing file is narrowed to 0600 before a
// byte is written.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { CliError, EXIT } from './context.ts';

export const OUTPUT_FILE_MODE = 0o600;

/** Writes `body` (text, bytes or a stream of either) to `file`, owner-only, refusing a symlink. */
export async function writePrivateFile(
  file: string,
  body: string | Uint8Array | AsyncIterable<string | Uint8Array>,
): Promise<void> {
  let handle;
  try {
    // O_NOFOLLOW: a symlink planted at the path (pointing at ~/.bashrc, or a world-readable place)
    // fails with ELOOP instead of being followed. O_NONBLOCK: a FIFO does not hang the open.
    handle = await open(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      OUTPUT_FILE_MODE,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP')
      throw new CliError(
        `${file} is a symbolic link: refusing to write through it (choose another path)`,
        EXIT.failed,
      );
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`, EXIT.failed);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new CliError(`${file} is not a regular file: refusing to write to it`, EXIT.failed);
    await handle.chmod(OUTPUT_FILE_MODE);
    await handle.truncate(0);
    const bytes = (chunk: string | Uint8Array) =>
      typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (typeof body === 'string' || body instanceof Uint8Array) await handle.write(bytes(body));
    else for await (const chunk of body) await handle.write(bytes(chunk));
  } finally {
    await handle.close();
  }
}

// Filesystem implementation of the claim-check store: one file per key under a root directory, written
// to a temporary sibling and renamed into place (or hard-linked, for create-if-absent) so that a crash
// never leaves a half-written object.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type CampaignStore,
  type StoreBody,
  StoreNotFoundError,
  assertValidKey,
  assertValidPrefix,
} from './store.ts';

// '~' can never appear in a key, so temporary files can never be mistaken for (or collide with) objects.
const TEMP_MARKER = '~tmp-';
// Objects hold recipients' data: owner-only files and directories, whatever the umask.
export const STORE_FILE_MODE = 0o600;
export const STORE_DIRECTORY_MODE = 0o700;
// Small writes are gathered into blocks of this size: one syscall per JSON line would be slow.
const WRITE_BLOCK_BYTES = 256 * 1024;

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function toBytes(chunk: string | Uint8Array): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

async function* chunksOf(body: StoreBody): AsyncIterable<Uint8Array> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    yield toBytes(body);
    return;
  }
  for await (const chunk of body) yield toBytes(chunk);
}

export class FileSystemStore implements CampaignStore {
  readonly root: string;
  readonly location: string;

  /** `root` is resolved against the current directory when relative; it is created on first write. */
  constructor(root: string) {
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  private pathOf(key: string): string {
    assertValidKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: StoreBody): Promise<void> {
    const target = this.pathOf(key);
    const temp = await this.writeTemp(target, body);
    try {
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async createIfAbsent(key: string, body: StoreBody): Promise<boolean> {
    const target = this.pathOf(key);
    const temp = await this.writeTemp(target, body);
    try {
      // link() fails with EEXIST instead of replacing: the check and the publication are one step, and
      // the target appears complete because the temp file was written and synced first.
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Writes the body to a synced temporary sibling of `target` and returns its path. */
  private async writeTemp(target: string, body: StoreBody): Promise<string> {
    const directory = path.dirname(target);
    await mkdir(directory, { recursive: true, mode: STORE_DIRECTORY_MODE });
    const temp = path.join(
      directory,
      `${path.basename(target)}${TEMP_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`,
    );
    const handle = await open(temp, 'wx', STORE_FILE_MODE);
    try {
      let pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const block = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await handle.write(block);
      };
      for await (const chunk of chunksOf(body)) {
        if (chunk.byteLength === 0) continue;
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        if (pendingBytes >= WRITE_BLOCK_BYTES) await flush();
      }
      await flush();
      // Durable before visible: publishing must not expose bytes still in the page cache only.
      await handle.sync();
      await handle.close();
      return temp;
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if (isNotFound(error)) throw new StoreNotFoundError(key, this.location);
      throw error;
    }
  }

  stream(key: string): AsyncIterable<Buffer> {
    // Validated here, not inside the generator, so a bad key fails at the call site.
    return this.streamFile(key, this.pathOf(key));
  }

  private async *streamFile(key: string, file: string): AsyncIterable<Buffer> {
    const input = createReadStream(file, { highWaterMark: 256 * 1024 });
    try {
      for await (const chunk of input) yield chunk as Buffer;
    } catch (error) {
      if (isNotFound(error)) throw new StoreNotFoundError(key, this.location);
      throw error;
    } finally {
      input.destroy();
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    return this.listValidated(prefix);
  }

  private async *listValidated(prefix: string): AsyncIterable<string> {
    // Only the directory named by the prefix's complete segments can hold matching keys.
    const lastSlash = prefix.lastIndexOf('/');
    const baseKey = lastSlash === -1 ? '' : prefix.slice(0, lastSlash);
    const keys: string[] = [];
    await this.collect(baseKey, keys);
    // Sorting the full keys (not each directory) gives the same order an object store lists in.
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const key of keys) if (key.startsWith(prefix)) yield key;
  }

  private async collect(directoryKey: string, into: string[]): Promise<void> {
    const directory = directoryKey === '' ? this.root : path.join(this.root, ...directoryKey.split('/'));
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (isNotFound(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.name.includes('~')) continue;
      const key = directoryKey === '' ? entry.name : `${directoryKey}/${entry.name}`;
      if (entry.isDirectory()) await this.collect(key, into);
      else if (entry.isFile()) into.push(key);
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}

// Loads a scheduled campaign's line items from its source (a file path or an https URL, CSV or JSON)
// into the store, validated row by row, so the campaign starts from a store key. What a source may
// name is the worker's configuration, never the campaign's: files only under CAMPAIGN_SOURCE_ROOTS,
// URLs only on CAMPAIGN_SOURCE_HOSTS, over https, within a size cap and a timeout.
import { constants } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import got from 'got';
import { z } from 'zod';
import { campaignPrefix } from '../store/keys.ts';
import { putJsonLines } from '../store/json.ts';
import type { CampaignStore } from '../store/store.ts';
import { type InputFormat, InputFileError, formatOfFile, parseLineItems } from '../input/line-items-file.ts';
import { ConfigError } from '../tango/config.ts';
import { failureTypes } from './errors.ts';

export interface CampaignSource {
  /** An absolute path (as the worker sees it, under CAMPAIGN_SOURCE_ROOTS) or an https URL. */
  location: string;
  format?: InputFormat;
}

/** What the worker lets a source name (CAMPAIGN_SOURCE_*). */
export interface SourceLimits {
  /** Directories file sources may be read from (real paths); none: file sources are refused. */
  roots: string[];
  /** Host names https sources may be fetched from (lower case, exact); none: URL sources are refused. */
  hosts: string[];
  /** Bytes read from one source at most. */
  maxBytes: number;
  /** Whole-request timeout of a URL source. */
  timeoutMs: number;
  /** Extra CA certificates (PEM) trusted for URL sources; the system's are trusted too. */
  ca?: string | Buffer;
}

export const DEFAULT_SOURCE_MAX_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_SOURCE_TIMEOUT_MS = 10 * 60 * 1000;

const listOf = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  );
const positiveInt = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number of ${what}`)
    .transform(Number)
    .pipe(z.number().int().positive())
    .optional();

const sourceEnvSchema = z.object({
  CAMPAIGN_SOURCE_ROOTS: listOf,
  CAMPAIGN_SOURCE_HOSTS: listOf,
  CAMPAIGN_SOURCE_MAX_BYTES: positiveInt('bytes'),
  CAMPAIGN_SOURCE_TIMEOUT_SECONDS: positiveInt('seconds'),
});

/** Reads CAMPAIGN_SOURCE_ROOTS, _HOSTS, _MAX_BYTES and _TIMEOUT_SECONDS; empty values count as unset. */
export function loadSourceLimits(env: Record<string, string | undefined>): SourceLimits {
  const clean = Object.fromEntries(
    Object.keys(sourceEnvSchema.shape).map((name) => [name, env[name]?.trim() ? env[name] : undefined]),
  );
  const parsed = sourceEnvSchema.safeParse(clean);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(env[variable])})`);
  }
  const vars = parsed.data;
  for (const root of vars.CAMPAIGN_SOURCE_ROOTS)
    if (!path.isAbsolute(root))
      throw new ConfigError('CAMPAIGN_SOURCE_ROOTS', `"${root}" is not an absolute directory`);
  for (const host of vars.CAMPAIGN_SOURCE_HOSTS)
    if (!/^[a-z0-9.-]+$/i.test(host) && !/^\[[0-9a-f:]+\]$/i.test(host))
      throw new ConfigError(
        'CAMPAIGN_SOURCE_HOSTS',
        `"${host}" is not a host name (no scheme, port or path)`,
      );
  return {
    roots: vars.CAMPAIGN_SOURCE_ROOTS.map((root) => path.resolve(root)),
    hosts: vars.CAMPAIGN_SOURCE_HOSTS.map((host) => host.toLowerCase()),
    maxBytes: vars.CAMPAIGN_SOURCE_MAX_BYTES ?? DEFAULT_SOURCE_MAX_BYTES,
    timeoutMs: (vars.CAMPAIGN_SOURCE_TIMEOUT_SECONDS ?? DEFAULT_SOURCE_TIMEOUT_MS / 1000) * 1000,
  };
}

/** No roots, no hosts: every source refused (what a worker without configuration does). */
export const NO_SOURCES: SourceLimits = {
  roots: [],
  hosts: [],
  maxBytes: DEFAULT_SOURCE_MAX_BYTES,
  timeoutMs: DEFAULT_SOURCE_TIMEOUT_MS,
};

export function sourceItemsKey(campaignId: string): string {
  return `${campaignPrefix(campaignId)}source-items.jsonl`;
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: failureTypes.invalidInput, message, nonRetryable: true });
}

const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location) && !/^file:/i.test(location);

/** Counts the bytes of a source and stops it at the cap. */
async function* capped(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  name: string,
): AsyncIterable<Uint8Array> {
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes)
      throw refused(
        `${name} is larger than ${maxBytes} bytes, the most a source may be (CAMPAIGN_SOURCE_MAX_BYTES); nothing was staged`,
      );
    yield chunk;
  }
}

/**
 * The real path of a file source, checked to be a regular file inside a configured root after every
 * symlink is resolved, and opened without following a symlink (a path swapped for one after the check
 * is refused). The caller closes the handle.
 */
export async function openFileSource(location: string, limits: SourceLimits): Promise<FileHandle> {
  if (limits.roots.length === 0)
    throw refused(
      `file sources are turned off on this worker: set CAMPAIGN_SOURCE_ROOTS to the directories scheduled campaigns may read (comma-separated); ${JSON.stringify(location)} was not read`,
    );
  const file = /^file:/i.test(location) ? fileURLToPath(location) : location;
  if (!path.isAbsolute(file))
    throw refused(
      `file source ${JSON.stringify(location)} must be an absolute path under CAMPAIGN_SOURCE_ROOTS`,
    );
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw refused(
      `file source ${JSON.stringify(location)} cannot be read: ${code === 'ENOENT' ? 'no such file' : code}`,
    );
  }
  const roots = (await Promise.all(limits.roots.map((root) => realpath(root).catch(() => undefined)))).filter(
    (root): root is string => root !== undefined,
  );
  const inside = roots.some((root) => real.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  if (!inside)
    throw refused(
      `file source ${JSON.stringify(location)} is not inside CAMPAIGN_SOURCE_ROOTS (${limits.roots.join(', ')}), symlinks resolved: not read`,
    );
  const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    (error: NodeJS.ErrnoException) => {
      throw refused(
        `file source ${JSON.stringify(location)} cannot be opened: ${error.code ?? error.message}`,
      );
    },
  );
  try {
    const [opened, checked] = await Promise.all([handle.stat(), stat(real)]);
    if (!opened.isFile())
      throw refused(`file source ${JSON.stringify(location)} is not a regular file: not read`);
    if (opened.ino !== checked.ino || opened.dev !== checked.dev)
      throw refused(`file source ${JSON.stringify(location)} changed while it was checked: not read`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The bytes of an https source on an allowed host: no redirect off the host, capped, timed out. */
export function fetchUrlSource(location: string, limits: SourceLimits): AsyncIterable<Uint8Array> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw refused(`source ${JSON.stringify(location)} is not a valid URL`);
  }
  if (url.protocol !== 'https:')
    throw refused(`source ${url.origin}: only https URLs are fetched (got ${url.protocol.replace(':', '')})`);
  if (url.username || url.password)
    throw refused(`source ${url.origin}: credentials in the URL are not accepted`);
  const host = url.hostname.toLowerCase();
  if (limits.hosts.length === 0)
    throw refused(
      `URL sources are turned off on this worker: set CAMPAIGN_SOURCE_HOSTS to the hosts scheduled campaigns may fetch from; ${url.origin} was not fetched`,
    );
  if (!limits.hosts.includes(host))
    throw refused(
      `source host ${host} is not in CAMPAIGN_SOURCE_HOSTS (${limits.hosts.join(', ')}): not fetched`,
    );
  const stream = got.stream(url, {
    timeout: { connect: 10_000, response: 60_000, request: limits.timeoutMs },
    retry: { limit: 0 },
    maxRedirects: 5,
    ...(limits.ca ? { https: { certificateAuthority: limits.ca } } : {}),
    hooks: {
      beforeRedirect: [
        (options) => {
          const next = options.url instanceof URL ? options.url : new URL(String(options.url));
          if (next.protocol !== 'https:' || next.hostname.toLowerCase() !== host)
            throw refused(
              `source ${url.origin} redirected to ${next.origin}: redirects off the host are not followed`,
            );
        },
      ],
    },
  });
  stream.on('response', (response: { headers: Record<string, string | string[] | undefined> }) => {
    const length = Number(response.headers['content-length']);
    if (Number.isFinite(length) && length > limits.maxBytes)
      stream.destroy(
        refused(
          `${url.origin}${url.pathname} is ${length} bytes, more than ${limits.maxBytes}, the most a source may be (CAMPAIGN_SOURCE_MAX_BYTES); nothing was staged`,
        ),
      );
  });
  return capped(stream as AsyncIterable<Uint8Array>, limits.maxBytes, `${url.origin}${url.pathname}`);
}

export function createSourceActivities(store: CampaignStore, limits: SourceLimits = NO_SOURCES) {
  async function loadCampaignSource(input: {
    campaignId: string;
    source: CampaignSource;
  }): Promise<{ storeKey: string; items: number }> {
    const { location } = input.source;
    const format = input.source.format ?? formatOfFile(new URL(location, 'file:///').pathname);
    let handle: FileHandle | undefined;
    let bytes: AsyncIterable<Uint8Array>;
    if (isUrl(location)) bytes = fetchUrlSource(location, limits);
    else {
      handle = await openFileSource(location, limits);
      bytes = capped(
        handle.createReadStream({ highWaterMark: 64 * 1024, autoClose: false }) as AsyncIterable<Uint8Array>,
        limits.maxBytes,
        location,
      );
    }
    const items = parseLineItems(bytes, { name: location, format });
    const storeKey = sourceItemsKey(input.campaignId);
    try {
      const count = await putJsonLines(
        store,
        storeKey,
        (async function* () {
          let count = 0;
          for await (const parsed of items) {
            count += 1;
            if (count % 2000 === 0) Context.current().heartbeat({ read: count });
            yield parsed.item;
          }
        })(),
      );
      return { storeKey, items: count };
    } catch (error) {
      const cause = unwrap(error);
      if (cause instanceof InputFileError) {
        throw ApplicationFailure.create({
          type: failureTypes.invalidInput,
          message: cause.message,
          details: [{ problems: cause.problems }],
          nonRetryable: true,
        });
      }
      if (cause instanceof ApplicationFailure) throw cause;
      throw error;
    } finally {
      await handle?.close();
    }
  }
  return { loadCampaignSource };
}

/** What the source threw, when the store wrapped it (an S3 upload does). */
function unwrap(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof InputFileError || current instanceof ApplicationFailure) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}

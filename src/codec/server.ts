// Codec server: Temporal's remote codec protocol over HTTP, so the Web UI and `temporal --codec-endpoint`
// can show decrypted payloads to operators while Temporal itself only ever stores ciphertext.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Payload, type PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { readBoundedBody, sameSecret } from '../http/request.ts';
import { PayloadDecryptionError } from './aes-gcm-codec.ts';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Required as `Authorization: Bearer <token>` when set. */
  token?: string | undefined;
  /** Browser origins allowed by CORS (the Temporal UI), e.g. http://localhost:8233. */
  corsOrigins: readonly string[];
  /** Default 127.0.0.1: without a token, the server must not be reachable from other machines. */
  host?: string;
  /** 0 = a free port. */
  port: number;
  /** Largest request body accepted; default 8 MiB (a page of history with several 2 MB payloads). */
  maxBodyBytes?: number;
  logger?: { warn(message: string, meta?: Record<string, unknown>): void };
}

export interface RunningCodecServer {
  /** Base URL to configure as the codec endpoint (UI setting, `--codec-endpoint`, `--ui-codec-endpoint`). */
  url: string;
  port: number;
  close(): Promise<void>;
}

// The protocol's body is the JSON form of temporal.api.common.v1.Payloads: every bytes field in base64.
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const jsonPayloadSchema = z.object({
  metadata: z.record(z.string(), base64).nullish(),
  data: base64.nullish(),
});
const requestBodySchema = z.object({ payloads: z.array(jsonPayloadSchema) });
type JsonPayload = z.infer<typeof jsonPayloadSchema>;

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value).toString('base64'),
      ]),
    ),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const read = await readBoundedBody(request, limit);
  if (read.kind === 'ok') return read.body;
  if (read.kind === 'aborted') throw new HttpError(400, 'the request ended before its body was complete');
  if (read.declaredBytes !== undefined)
    throw new HttpError(413, `request body of ${read.declaredBytes} bytes is over the ${limit}-byte limit`);
  // The rest of the body is not read: close the connection rather than drain it.
  throw new HttpError(413, `request body is over the ${limit}-byte limit`, { Connection: 'close' });
}

/**
 * Serves POST /encode and /decode, also under a namespace prefix (/<namespace>/decode), which the CLI's
 * `--codec-endpoint 'http://host:port/{namespace}'` produces. OPTIONS answers CORS preflights for the
 * allowed origins with the headers the UI sends (Content-Type, X-Namespace, Authorization).
 */
export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const allowedOrigins = new Set(options.corsOrigins);

  function corsHeaders(request: IncomingMessage): Record<string, string> {
    const origin = request.headers.origin;
    if (!origin || !allowedOrigins.has(origin)) return {};
    return {
      'Access-Control-Allow-Origin': origin,
      // The UI's "include cross-origin credentials" setting needs this, and forbids a wildcard origin.
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const cors = corsHeaders(request);
    const { pathname } = new URL(request.url ?? '/', 'http://codec.invalid');
    const action = /^(?:\/[^/]+)?\/(encode|decode)\/?$/.exec(pathname)?.[1] as
      'encode' | 'decode' | undefined;

    if (request.method === 'OPTIONS') {
      if (!cors['Access-Control-Allow-Origin']) {
        throw new HttpError(
          403,
          `origin ${request.headers.origin ?? '(none)'} is not in CODEC_SERVER_CORS_ORIGIN`,
        );
      }
      response.writeHead(204, {
        ...cors,
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, X-Namespace, Authorization',
        'Access-Control-Max-Age': '600',
      });
      response.end();
      return;
    }
    if (!action) throw new HttpError(404, `no route ${pathname}; use POST /encode or /decode`);
    if (request.method !== 'POST') {
      throw new HttpError(405, `${request.method ?? '?'} ${pathname}: only POST`, { Allow: 'POST, OPTIONS' });
    }
    if (options.token !== undefined) {
      const header = request.headers.authorization ?? '';
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      if (!given || !sameSecret(given, options.token)) {
        throw new HttpError(401, 'missing or wrong bearer token (CODEC_SERVER_TOKEN)', {
          'WWW-Authenticate': 'Bearer realm="tango-campaigns codec"',
        });
      }
    }

    const raw = await readBody(request, maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'body is not JSON; expected {"payloads": [...]}');
    }
    const parsed = requestBodySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(400, `body: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    const payloads = parsed.data.payloads.map(fromJson);
    let result: Payload[];
    try {
      result = await (action === 'encode' ? options.codec.encode(payloads) : options.codec.decode(payloads));
    } catch (error) {
      // An unknown key or altered ciphertext is a property of the data sent, not a server fault.
      const message = (error as Error).message;
      const unknownKey = error instanceof PayloadDecryptionError && error.unknownKey;
      throw new HttpError(422, `${action} failed: ${unknownKey ? 'unknown key id' : message}`);
    }
    response.writeHead(200, { ...cors, 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ payloads: result.map(toJson) }));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status >= 500) options.logger?.warn('codec server error', { error: message });
      if (response.headersSent) {
        response.destroy();
        return;
      }
      response.writeHead(status, {
        ...corsHeaders(request),
        ...(error instanceof HttpError ? error.headers : {}),
        'Content-Type': 'application/json',
        // An unread request body would otherwise keep the socket busy; close it with the error.
        Connection: 'close',
      });
      response.end(JSON.stringify({ error: message }));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

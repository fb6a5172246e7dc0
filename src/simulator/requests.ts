// Reading the simulator's requests: bounded bodies, JSON with Tango's error for a bad one, and the
// admin and query inputs, each refused with Tango's error body naming the field.
import type { IncomingMessage } from 'node:http';
import { readBoundedBody } from '../http/request.ts';
import type { SimulatorOptions } from './options.ts';
import type { LineItemQuery, ReversalInput } from './simulated-tango.ts';
import { fieldError, SimulatorHttpError, type TangoFieldError } from './tango-errors.ts';
import { parseCreateOrderRequest } from './validation.ts';

const maxBodyBytes = 64 * 1024 * 1024;

/** An error answered as plain text (the OAuth token endpoint's style). */
export class TextError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const read = await readBoundedBody(req, maxBodyBytes);
  if (read.kind === 'too-large')
    throw new SimulatorHttpError(413, '413.001', `request body larger than ${maxBodyBytes} bytes`);
  if (read.kind === 'aborted') throw new Error('the request ended before its body was complete');
  return read.body;
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new SimulatorHttpError(
      415,
      '415.001',
      `Content-Type must be application/json, got '${type || '(none)'}'`,
    );
  }
  const raw = await readBody(req);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch (error) {
    throw new SimulatorHttpError(400, '400.001', `Malformed JSON request body: ${(error as Error).message}`, [
      fieldError('(body)', 'JSON', 'not valid JSON', raw.toString('utf8').slice(0, 100)),
    ]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parsePreload(body: unknown) {
  if (!isObject(body)) {
    throw new SimulatorHttpError(400, '400.001', 'Request is invalid: the body must be an order object');
  }
  const { createdAt, ...order } = body;
  let createdAtMs: number | undefined;
  if (createdAt !== undefined) {
    createdAtMs =
      createdAt instanceof Date
        ? createdAt.getTime()
        : typeof createdAt === 'string'
          ? Date.parse(createdAt)
          : NaN;
    if (Number.isNaN(createdAtMs)) {
      throw new SimulatorHttpError(400, '400.001', 'Request is invalid: createdAt must be an ISO date-time', [
        fieldError('createdAt', 'DateTime', 'must be an ISO date-time', String(createdAt)),
      ]);
    }
  }
  return { input: parseCreateOrderRequest(order), createdAtMs };
}

function optionalText(body: Record<string, unknown>, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new SimulatorHttpError(400, '400.001', `Request is invalid: ${key} must be a non-empty string`, [
      fieldError(key, 'Type', 'must be a non-empty string', String(value)),
    ]);
  }
  return value;
}

export function parseReversal(body: unknown): ReversalInput {
  if (!isObject(body)) {
    throw new SimulatorHttpError(400, '400.001', 'Request is invalid: the body must be an object');
  }
  const externalRefID = optionalText(body, 'externalRefID');
  const externalRefLineItemID = optionalText(body, 'externalRefLineItemID');
  if (externalRefID === undefined || externalRefLineItemID === undefined) {
    throw new SimulatorHttpError(
      400,
      '400.001',
      'Request is invalid: externalRefID and externalRefLineItemID are required',
    );
  }
  const reversal: ReversalInput = { externalRefID, externalRefLineItemID };
  for (const key of ['customerIdentifier', 'accountIdentifier', 'errorCode', 'errorMessage'] as const) {
    const value = optionalText(body, key);
    if (value !== undefined) reversal[key] = value;
  }
  return reversal;
}

function queryList(url: URL, name: string): string[] | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length === 0) return undefined;
  return values.flatMap((value) => value.split(','));
}

export function parseLineItemQuery(url: URL): LineItemQuery {
  const errors: TangoFieldError[] = [];
  const params = url.searchParams;
  let maxResults = 100;
  const rawMax = params.get('maxResults');
  if (rawMax !== null) {
    if (!/^\d+$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > 500) {
      errors.push(fieldError('maxResults', 'Range', 'must be an integer between 1 and 500', rawMax));
    } else maxResults = Number(rawMax);
  }
  let failedOnly = false;
  const rawFailed = params.get('failedOnly');
  if (rawFailed !== null) {
    if (!/^(true|false)$/i.test(rawFailed)) {
      errors.push(fieldError('failedOnly', 'Boolean', 'must be true or false', rawFailed));
    } else failedOnly = rawFailed.toLowerCase() === 'true';
  }
  const externalIds = queryList(url, 'externalLineItemReferenceIds');
  const referenceIds = queryList(url, 'referenceLineItemIds');
  for (const [name, ids] of [
    ['externalLineItemReferenceIds', externalIds],
    ['referenceLineItemIds', referenceIds],
  ] as const) {
    if (!ids) continue;
    if (ids.length > 50) errors.push(fieldError(name, 'Size', 'at most 50 ids per request', ids.length));
    const long = ids.find((id) => id.length > 100);
    if (long !== undefined) errors.push(fieldError(name, 'Size', 'each id must be 0-100 characters', long));
  }
  if (externalIds && referenceIds) {
    errors.push(
      fieldError(
        'referenceLineItemIds',
        'Exclusive',
        'use either referenceLineItemIds or externalLineItemReferenceIds, not both',
        null,
      ),
    );
  }
  const nextCursor = params.get('nextCursor') ?? undefined;
  const prevCursor = params.get('prevCursor') ?? undefined;
  if (nextCursor !== undefined && prevCursor !== undefined) {
    errors.push(
      fieldError('prevCursor', 'Exclusive', 'use either nextCursor or prevCursor, not both', prevCursor),
    );
  }
  if (errors.length > 0) {
    throw new SimulatorHttpError(
      400,
      '400.001',
      `Request is invalid: ${errors[0]?.path} ${errors[0]?.message}`,
      errors,
    );
  }
  const query: LineItemQuery = { maxResults, failedOnly };
  if (nextCursor !== undefined) query.nextCursor = nextCursor;
  if (prevCursor !== undefined) query.prevCursor = prevCursor;
  if (externalIds) query.externalLineItemReferenceIds = externalIds;
  if (referenceIds) query.referenceLineItemIds = referenceIds;
  return query;
}

/** The options as the admin endpoints show them: the admin token itself never leaves. */
export function shownOptions(
  options: SimulatorOptions,
): Omit<SimulatorOptions, 'adminToken'> & { adminToken?: string } {
  const { adminToken, ...shown } = options;
  return adminToken === undefined ? shown : { ...shown, adminToken: '(set)' };
}

// What the product's HTTP servers (webhook receiver, codec server, Tango simulator) share about an
// incoming request: reading its body within a size limit, and comparing a secret it carries in
// constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { kind: 'ok'; body: Buffer }
  /** `declaredBytes` when Content-Length announced the size (nothing was read). */
  | { kind: 'too-large'; declaredBytes?: number }
  | { kind: 'aborted' };

/**
 * Reads the request body up to `limit` bytes. A declared Content-Length above the limit is refused
 * before reading anything; a chunked body is cut off as soon as it passes the limit (the rest is left
 * unread: answer and close the connection rather than drain it).
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit)
    return Promise.resolve({ kind: 'too-large', declaredBytes: declared });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyResult) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        finish({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'ok', body: Buffer.concat(chunks, size) });
    const onAbort = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!req.complete) finish({ kind: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

/** Whether a secret a request carries equals the expected one, in time that says nothing about either. */
export function sameSecret(given: string, expected: string): boolean {
  // Hashing first gives equal lengths, so neither the length nor the bytes show in the timing.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

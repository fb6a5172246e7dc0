// Deterministic identifiers (ARCHITECTURE invariant 3): the campaign id's short reference and every
// order's externalRefID are pure functions of campaign id, chunk and round, so a retried or replayed
// submission always reuses the same idempotency key. Pure and sandbox-safe.

const CAMPAIGN_ID = /^[A-Za-z0-9_.-]{1,80}$/;

/** Tango's limit on externalRefID. */
export const MAX_EXTERNAL_REF_ID_LENGTH = 100;
/** Ids up to this length made of lower-case letters, digits and single hyphens are used as they are. */
export const MAX_LITERAL_REF_LENGTH = 40;
const READABLE_PREFIX_LENGTH = 24;
// Lower-case alphanumerics joined by single hyphens: never "--", so it cannot look like a hashed ref.
const LITERAL_REF = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export class InvalidCampaignIdError extends Error {
  override readonly name = 'InvalidCampaignIdError';
  constructor(readonly campaignId: string) {
    super(
      `Invalid campaign id ${JSON.stringify(campaignId)}: use 1-80 characters from letters, digits, ` +
        `"_", "." and "-" (and not "." or "..")`,
    );
  }
}

export function isValidCampaignId(campaignId: string): boolean {
  return (
    typeof campaignId === 'string' &&
    CAMPAIGN_ID.test(campaignId) &&
    campaignId !== '.' &&
    campaignId !== '..'
  );
}

export function assertValidCampaignId(campaignId: string): void {
  if (!isValidCampaignId(campaignId)) throw new InvalidCampaignIdError(campaignId);
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = (1n << 64n) - 1n;

function utf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else
      bytes.push(
        0xf0 | (code >> 18),
        0x80 | ((code >> 12) & 63),
        0x80 | ((code >> 6) & 63),
        0x80 | (code & 63),
      );
  }
  return bytes;
}

/**
 * 64-bit FNV-1a of the text's UTF-8 bytes, as 13 base-36 digits. Written here rather than taken from
 * node:crypto because workflow code (the sandbox) derives references too; it needs no globals at all.
 */
export function stableHash(text: string): string {
  let hash = FNV64_OFFSET;
  for (const byte of utf8Bytes(text)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV64_PRIME) & MASK64;
  }
  return hash.toString(36).padStart(13, '0');
}

/**
 * The campaign's short reference in Tango externalRefIDs: lower-case letters, digits and '-', at most
 * 40 characters, the same on every call. A short id of lower-case alphanumerics and single hyphens is
 * its own reference; any other id becomes a readable prefix, "--" and a hash of the whole id. Literal
 * references never contain "--", so the two forms cannot collide, and because every id with an
 * upper-case letter is hashed, references stay distinct even if Tango compared them case-insensitively.
 */
export function campaignRef(campaignId: string): string {
  assertValidCampaignId(campaignId);
  if (campaignId.length <= MAX_LITERAL_REF_LENGTH && LITERAL_REF.test(campaignId)) return campaignId;
  const readable = campaignId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, READABLE_PREFIX_LENGTH)
    .replace(/^-+|-+$/g, '');
  return `${readable === '' ? 'c' : readable}--${stableHash(campaignId)}`;
}

function assertIndex(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
}

/**
 * The externalRefID of one order round: `<ref>-<chunk>` for round 0 and `<ref>-<chunk>-r<round>` for
 * correction rounds. The last segment is all digits for round 0 and starts with "r" otherwise, which
 * keeps the ids of different campaigns, chunks and rounds apart even when one ref extends another.
 */
export function orderExternalRefId(ref: string, chunk: number, round: number): string {
  if (!/^[a-z0-9-]{1,40}$/.test(ref))
    throw new RangeError(`"${ref}" is not a campaign reference: build it with campaignRef(campaignId)`);
  assertIndex('chunk', chunk);
  assertIndex('round', round);
  const id = round === 0 ? `${ref}-${chunk}` : `${ref}-${chunk}-r${round}`;
  // Unreachable with a 40-character ref and safe integers (at most 76 characters); kept as the guard
  // that Tango's limit is respected if the limits above ever change.
  if (id.length > MAX_EXTERNAL_REF_ID_LENGTH)
    throw new RangeError(`externalRefID ${id} is longer than ${MAX_EXTERNAL_REF_ID_LENGTH} characters`);
  return id;
}

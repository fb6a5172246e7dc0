// Serializes one Temporal Payload to the protobuf wire format (temporal.api.common.v1.Payload) and back,
// so the encrypted bytes are the same ones other SDKs' encryption codecs produce and can read.
import { type Payload } from '@temporalio/common';

// Field numbers from temporal/api/common/v1/message.proto: map<string, bytes> metadata = 1; bytes data = 2.
// A map entry is itself a message: string key = 1; bytes value = 2.
const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

function lengthDelimited(field: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varint((field << 3) | WIRE_LEN), ...varint(body.length)]), body]);
}

/** The Payload message's bytes, metadata entries in key order (deterministic output for equal payloads). */
export function encodePayloadBytes(payload: Payload): Buffer {
  const parts: Buffer[] = [];
  for (const key of Object.keys(payload.metadata ?? {}).sort()) {
    const value = payload.metadata?.[key] ?? new Uint8Array();
    const entry = Buffer.concat([lengthDelimited(1, Buffer.from(key, 'utf8')), lengthDelimited(2, value)]);
    parts.push(lengthDelimited(1, entry));
  }
  if (payload.data && payload.data.length > 0) parts.push(lengthDelimited(2, payload.data));
  return Buffer.concat(parts);
}

class Reader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes[this.offset++];
      if (byte === undefined) throw new Error('truncated varint');
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new Error('field runs past the end');
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  /** Reads one field header and its value; varint/fixed values are skipped (returned as undefined). */
  field(): { number: number; value: Uint8Array | undefined } {
    const tag = this.varint();
    const number = Math.floor(tag / 8);
    switch (tag & 7) {
      case WIRE_LEN:
        return { number, value: this.take(this.varint()) };
      case WIRE_VARINT:
        this.varint();
        return { number, value: undefined };
      case WIRE_I64:
        this.take(8);
        return { number, value: undefined };
      case WIRE_I32:
        this.take(4);
        return { number, value: undefined };
      default:
        throw new Error(`unsupported wire type ${tag & 7}`);
    }
  }
}

/** Parses a Payload message. Unknown fields (e.g. external_payloads = 3) are skipped, as protobuf requires. */
export function decodePayloadBytes(bytes: Uint8Array): Payload {
  const reader = new Reader(bytes);
  const metadata: Record<string, Uint8Array> = {};
  let data: Uint8Array = new Uint8Array();
  while (!reader.done) {
    const { number, value } = reader.field();
    if (number === 1 && value) {
      const entry = new Reader(value);
      let key = '';
      let entryValue: Uint8Array = new Uint8Array();
      while (!entry.done) {
        const field = entry.field();
        if (field.number === 1 && field.value) key = Buffer.from(field.value).toString('utf8');
        if (field.number === 2 && field.value) entryValue = field.value;
      }
      metadata[key] = Uint8Array.from(entryValue);
    } else if (number === 2 && value) {
      data = Uint8Array.from(value);
    }
  }
  return { metadata, data };
}

/**
 * The y-websocket wire format's lib0 varints, hand-rolled so test and benchmark clients can build
 * any frame (malformed ones included) at a tiny, equal cost for every server.
 */

export class Writer {
  private readonly bytes: number[] = [];

  uint(value: number): this {
    let v = value;
    while (v > 0x7f) {
      this.bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.bytes.push(v);
    return this;
  }

  array(data: Uint8Array): this {
    this.uint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(text: string): this {
    return this.array(new TextEncoder().encode(text));
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** Decodes varints exactly as lib0 does (non-minimal encodings included); throws past the end. */
export class Reader {
  offset = 0;

  constructor(private readonly data: Uint8Array) {}

  get done(): boolean {
    return this.offset === this.data.length;
  }

  uint(): number {
    let result = 0;
    let factor = 1;
    for (;;) {
      const byte = this.data[this.offset++];
      if (byte === undefined) throw new RangeError('truncated varint');
      result += (byte & 0x7f) * factor;
      if (byte < 0x80) return result;
      factor *= 128;
      if (result > Number.MAX_SAFE_INTEGER) throw new RangeError('varint out of range');
    }
  }

  array(): Uint8Array {
    const length = this.uint();
    if (this.offset + length > this.data.length) throw new RangeError('array past the end');
    const out = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
}

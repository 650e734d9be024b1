/** LSP base protocol: `Content-Length: n\r\n\r\n` + n bytes of JSON. */
export function encodeLspMessage(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');
const MAX_HEADER_BYTES = 1024;

/**
 * Splits a language server's stdout into JSON messages. A message over `maxMessageBytes` or a
 * malformed header is an error (`onError`): the stream cannot be resynchronised, so the caller
 * stops the server rather than buffering without bound.
 */
export class LspMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private expected: number | null = null;
  private failed = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly onMessage: (message: unknown) => void,
    private readonly onError: (reason: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.expected === null) {
        const end = this.buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffer.length > MAX_HEADER_BYTES) this.fail('header too long');
          return;
        }
        const m = /(?:^|\r\n)Content-Length: *(\d+)/i.exec(this.buffer.subarray(0, end).toString('ascii'));
        if (!m) return this.fail('missing Content-Length');
        this.expected = Number(m[1]);
        if (this.expected > this.maxMessageBytes) return this.fail(`message of ${this.expected} bytes exceeds ${this.maxMessageBytes}`);
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
      }
      if (this.buffer.length < this.expected) return;
      const body = this.buffer.subarray(0, this.expected).toString('utf8');
      this.buffer = this.buffer.subarray(this.expected);
      this.expected = null;
      let message: unknown;
      try {
        message = JSON.parse(body);
      } catch {
        return this.fail('invalid JSON');
      }
      this.onMessage(message);
    }
  }

  private fail(reason: string): void {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    this.onError(reason);
  }
}

import { constants } from 'node:fs';
import { open, readFile, rename, mkdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AppError } from '@tandem/protocol';
import type { DocumentStore, StoredDocument } from './DocumentStore.ts';

/** Record header: payload length and CRC-32 of the payload, both uint32 little-endian. */
const HEADER_BYTES = 8;

interface LogFile {
  handle: FileHandle;
  /** Length of the valid prefix of the log (a torn tail from a crash is cut off on open). */
  size: number;
  /** The last append: appends to one log run one at a time so each knows its end offset. */
  appending: Promise<unknown>;
}

/**
 * Single-node `DocumentStore` on the local disk, for development, benchmarks and crash tests
 * (production uses Postgres through the app). Per document: `<name>.log`, an append-only log of
 * CRC-checked records, written with O_DSYNC (durable when the write returns); `<name>.snap`, the last compaction, replaced
 * atomically (write, fsync, rename). A cursor is a byte offset in the log; loading skips what
 * the snapshot covers. The log is never rewritten, so it only grows (fine for its uses).
 */
export class FileDocumentStore implements DocumentStore {
  private readonly logs = new Map<string, Promise<LogFile>>();

  constructor(
    private readonly directory: string,
    private readonly options: { fsync?: boolean } = {},
  ) {}

  async load(documentName: string): Promise<StoredDocument> {
    const snapshot = await this.readSnapshot(documentName);
    const log = await this.logFile(documentName);
    const bytes = await readPrefix(log.handle, log.size);
    const from = snapshot?.through ?? 0;
    const updates = readRecords(bytes, from).records;
    return { snapshot: snapshot?.update ?? null, updates, cursor: log.size };
  }

  async append(documentName: string, updates: readonly Uint8Array[]): Promise<number> {
    const log = await this.logFile(documentName);
    const buffer = Buffer.concat(updates.flatMap((u) => [recordHeader(u), u]));
    const appended = log.appending.then(async () => {
      try {
        const { bytesWritten } = await log.handle.write(buffer, 0, buffer.length, log.size);
        if (bytesWritten !== buffer.length) throw new AppError('UNAVAILABLE', 'Storage is full.', `short write to ${documentName}`);
      } catch (error) {
        // Drop whatever part made it, so the next append follows valid data.
        await log.handle.truncate(log.size).catch(() => {});
        throw error;
      }
      log.size += buffer.length;
      return log.size;
    });
    log.appending = appended.catch(() => {});
    return appended;
  }

  async compact(documentName: string, snapshot: Uint8Array, through: number): Promise<void> {
    const header = Buffer.alloc(8 + HEADER_BYTES);
    header.writeBigUInt64LE(BigInt(through), 0);
    recordHeader(snapshot).copy(header, 8);
    const path = this.path(documentName, 'snap');
    const temporary = `${path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(Buffer.concat([header, snapshot]));
      if (this.options.fsync !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    if (this.options.fsync !== false) await syncDirectory(this.directory);
  }

  /** Closes open log files. The store can be used again afterwards (files reopen lazily). */
  async close(): Promise<void> {
    const logs = [...this.logs.values()];
    this.logs.clear();
    await Promise.all(logs.map(async (log) => (await log).handle.close()));
  }

  private logFile(documentName: string): Promise<LogFile> {
    let log = this.logs.get(documentName);
    if (!log) {
      log = this.openLog(documentName);
      this.logs.set(documentName, log);
      log.catch(() => this.logs.delete(documentName));
    }
    return log;
  }

  private async openLog(documentName: string): Promise<LogFile> {
    await mkdir(this.directory, { recursive: true });
    // O_DSYNC makes each write durable when it returns: one thread-pool hop per append, not two.
    const durable = this.options.fsync === false ? 0 : constants.O_DSYNC;
    const handle = await open(this.path(documentName, 'log'), constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | durable);
    const { size } = await handle.stat();
    const bytes = await readPrefix(handle, size);
    const valid = readRecords(bytes, 0).end;
    // A crash mid-append leaves a partial record; cut it so new records follow valid data.
    if (valid < size) await handle.truncate(valid);
    return { handle, size: valid, appending: Promise.resolve() };
  }

  private async readSnapshot(documentName: string): Promise<{ through: number; update: Uint8Array } | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path(documentName, 'snap'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const through = Number(bytes.readBigUInt64LE(0));
    const { records, end } = readRecords(bytes.subarray(8), 0);
    if (records.length !== 1 || end !== bytes.length - 8) {
      throw new AppError('INTERNAL', 'Stored document is corrupt.', `bad snapshot for ${documentName}`);
    }
    return { through, update: records[0]! };
  }

  private path(documentName: string, kind: 'log' | 'snap'): string {
    return join(this.directory, `${encodeURIComponent(documentName)}.${kind}`);
  }
}

function recordHeader(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32LE(payload.length, 0);
  header.writeUInt32LE(crc32(payload), 4);
  return header;
}

/**
 * Reads the intact records from `from` up to a torn tail (a last record cut short or garbled by a
 * crash mid-append). A bad record followed by more data is corruption: refuse rather than guess.
 */
function readRecords(bytes: Buffer, from: number): { records: Uint8Array[]; end: number } {
  const records: Uint8Array[] = [];
  let offset = from;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const start = offset + HEADER_BYTES;
    if (start + length > bytes.length) break;
    const payload = bytes.subarray(start, start + length);
    if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) {
      if (start + length === bytes.length) break;
      throw new AppError('INTERNAL', 'Stored document is corrupt.', `bad record at offset ${offset}`);
    }
    records.push(new Uint8Array(payload));
    offset = start + length;
  }
  return { records, end: offset };
}

/** Makes a rename durable: the directory entry lives in the directory's own blocks. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readPrefix(handle: FileHandle, size: number): Promise<Buffer> {
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const { bytesRead } = await handle.read(buffer, read, size - read, read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return buffer.subarray(0, read);
}

/** Prisma's Bytes type wants an ArrayBuffer-backed array; Yjs returns ArrayBufferLike ones (always ArrayBuffer in practice). */
export function asBytes(u: Uint8Array): Uint8Array<ArrayBuffer> {
  return u.buffer instanceof ArrayBuffer ? (u as Uint8Array<ArrayBuffer>) : new Uint8Array(u);
}

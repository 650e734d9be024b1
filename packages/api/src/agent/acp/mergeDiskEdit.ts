import { applyHunksToText, computeHunks } from '@tandem/review';

/**
 * Three-way merge of a file the agent changed on disk (`disk`) with what the file became in the
 * shared session meanwhile (`live`: people's edits, the run's other changes), both from `base`
 * (what Tandem last wrote to the disk). Line-level: the two sets of changes must not touch the
 * same or adjacent lines; then both apply. Null on a conflict, so people's edits are never undone
 * by a proposal made from an older copy.
 */
export function mergeDiskEdit(base: string, live: string, disk: string): string | null {
  if (live === base) return disk;
  if (disk === base) return live;
  const ours = computeHunks(base, disk);
  const theirs = computeHunks(base, live);
  const touch = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start <= b.end && b.start <= a.end;
  if (ours.some((o) => theirs.some((t) => touch(o, t)))) return null;
  const all = [...ours, ...theirs].sort((a, b) => a.start - b.start).map((h, index) => ({ ...h, index }));
  return applyHunksToText(base, all);
}

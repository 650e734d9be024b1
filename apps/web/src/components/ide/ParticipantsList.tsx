'use client';
import { initials } from '@/components/Avatar';
import type { TreeEntries } from '@/lib/ide/fileTree';
import type { Participant } from '@/lib/ide/presence';
import { EyeIcon } from './Icons';

export interface ParticipantsListProps {
  participants: Participant[];
  entries: TreeEntries;
  following: number | null;
  onFollow(session: number): void;
  onStopFollowing(): void;
}

/** Who is in the project right now and which file each has open; click someone to follow them. */
export function ParticipantsList({ participants, entries, following, onFollow, onStopFollowing }: ParticipantsListProps) {
  return (
    <section className="ide-section ide-people" aria-label="People">
      <div className="ide-section-head"><span>People here</span><span className="spacer" /><span className="count">{participants.length}</span></div>
      <ul className="people">
        {participants.map((p) => {
          const path = p.activeFile ? entries.get(p.activeFile)?.path : undefined;
          const isFollowed = following === p.session;
          return (
            <li key={p.session}>
              <button
                className={`person ${isFollowed ? 'followed' : ''}`}
                data-testid="participant"
                data-name={p.user.name}
                disabled={p.isSelf}
                onClick={() => (isFollowed ? onStopFollowing() : onFollow(p.session))}
                title={p.isSelf ? 'You' : isFollowed ? `Stop following ${p.user.name}` : `Follow ${p.user.name}`}
              >
                <span className="avatar" style={{ background: p.user.color }}>{initials(p.user.name)}</span>
                <span className="person-text">
                  <span className="person-name">{p.user.name}{p.isSelf && <span className="muted"> (you)</span>}</span>
                  <span className="person-file">{path ?? 'No file open'}</span>
                </span>
                {!p.isSelf && <span className="person-follow" aria-hidden="true"><EyeIcon size={14} /></span>}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

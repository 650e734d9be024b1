'use client';
import { useRef } from 'react';
import Link from 'next/link';
import { initials } from '@/components/Avatar';
import type { Participant } from '@/lib/ide/presence';
import type { ConnectionState } from '@/lib/ide/ProjectSession';
import { ConnectionIndicator } from './ConnectionIndicator';
import { ShareButton } from './ShareButton';
import { DownloadIcon, SettingsIcon, UploadIcon } from './Icons';

export interface IdeTopBarProps {
  projectId: string;
  projectName: string | null;
  role: string | null;
  connection: ConnectionState;
  participants: Participant[];
  canUpload: boolean;
  uploading: boolean;
  onUpload(files: File[]): void;
  onFollow(session: number): void;
}

const MAX_AVATARS = 5;

export function IdeTopBar({ projectId, projectName, role, connection, participants, canUpload, uploading, onUpload, onFollow }: IdeTopBarProps) {
  const input = useRef<HTMLInputElement>(null);
  const shown = participants.slice(0, MAX_AVATARS);
  return (
    <header className="ide-topbar">
      <Link href="/projects" prefetch={false} className="brand" title="All projects"><span className="brand-mark" /></Link>
      <span className="ide-project" data-testid="project-name">{projectName ?? '…'}</span>
      {role && <span className={`badge ${role}`} data-testid="role">{role}</span>}
      <ConnectionIndicator state={connection} />
      <span className="spacer" />
      <div className="avatar-stack" aria-label="People in this project">
        {shown.map((p) => (
          <button
            key={p.session}
            className="avatar stacked"
            style={{ background: p.user.color }}
            title={p.isSelf ? `${p.user.name} (you)` : `Follow ${p.user.name}`}
            disabled={p.isSelf}
            onClick={() => onFollow(p.session)}
          >
            {initials(p.user.name)}
          </button>
        ))}
        {participants.length > MAX_AVATARS && <span className="avatar stacked more">+{participants.length - MAX_AVATARS}</span>}
      </div>
      {role && <ShareButton projectId={projectId} isOwner={role === 'owner'} />}
      <a className="button small-button" href={`/api/projects/${projectId}/archive.zip`} download data-testid="download-zip" title="Download the project as a zip">
        <DownloadIcon size={14} /><span className="button-label">Download zip</span>
      </a>
      <button className="small-button" disabled={!canUpload || uploading} onClick={() => input.current?.click()} title={canUpload ? 'Upload a .zip or files' : 'Viewers cannot upload'}>
        <UploadIcon size={14} /><span className="button-label">{uploading ? 'Uploading…' : 'Upload'}</span>
      </button>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="upload-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length > 0) onUpload(files);
        }}
      />
      <Link className="button small-button" href={`/projects/${projectId}/settings`} prefetch={false} title="Project settings"><SettingsIcon size={14} /><span className="button-label">Settings</span></Link>
    </header>
  );
}

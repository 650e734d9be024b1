/** Small stroke icons for the IDE (inline SVG: no icon font, no network). */
type IconProps = { size?: number };

function Svg({ size = 16, children }: IconProps & { children: React.ReactNode }) {
  return (
    <svg width={size} height={size} viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.4" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      {children}
    </svg>
  );
}

export const FileIcon = (p: IconProps) => <Svg {...p}><path d="M4 1.8h5.2L12.5 5v9.2H4z" /><path d="M9 1.8V5h3.4" /></Svg>;
export const FolderIcon = (p: IconProps) => <Svg {...p}><path d="M1.8 4.2h4.4l1.4 1.5h6.6v7.6H1.8z" /></Svg>;
export const FilePlusIcon = (p: IconProps) => <Svg {...p}><path d="M9.5 14.2H4V1.8h5.2L12.5 5v3.5" /><path d="M12.5 10.5v4M10.5 12.5h4" /></Svg>;
export const FolderPlusIcon = (p: IconProps) => <Svg {...p}><path d="M8.5 13.3H1.8V4.2h4.4l1.4 1.5h6.6v2.8" /><path d="M12.5 9.5v4M10.5 11.5h4" /></Svg>;
export const PencilIcon = (p: IconProps) => <Svg {...p}><path d="M10.8 2.5l2.7 2.7-8 8H2.8v-2.7z" /></Svg>;
export const TrashIcon = (p: IconProps) => <Svg {...p}><path d="M2.5 4.2h11M6 4.2V2.5h4v1.7M4 4.2l.7 9.5h6.6l.7-9.5" /></Svg>;
export const ChevronIcon = ({ open, ...p }: IconProps & { open: boolean }) => (
  <Svg {...p}><path d={open ? 'M4 6l4 4 4-4' : 'M6 4l4 4-4 4'} /></Svg>
);
export const DownloadIcon = (p: IconProps) => <Svg {...p}><path d="M8 2v8M4.8 7l3.2 3.2L11.2 7M2.5 13.5h11" /></Svg>;
export const UploadIcon = (p: IconProps) => <Svg {...p}><path d="M8 10.5V2.5M4.8 5.7L8 2.5l3.2 3.2M2.5 13.5h11" /></Svg>;
export const SettingsIcon = (p: IconProps) => (
  <Svg {...p}><circle cx="8" cy="8" r="2.2" /><path d="M8 1.5v2M8 12.5v2M1.5 8h2M12.5 8h2M3.4 3.4l1.4 1.4M11.2 11.2l1.4 1.4M3.4 12.6l1.4-1.4M11.2 4.8l1.4-1.4" /></Svg>
);
export const CloseIcon = (p: IconProps) => <Svg {...p}><path d="M4.5 4.5l7 7M11.5 4.5l-7 7" /></Svg>;
export const EyeIcon = (p: IconProps) => <Svg {...p}><path d="M1.5 8s2.4-4.5 6.5-4.5S14.5 8 14.5 8s-2.4 4.5-6.5 4.5S1.5 8 1.5 8z" /><circle cx="8" cy="8" r="1.8" /></Svg>;
export const CommentIcon = (p: IconProps) => <Svg {...p}><path d="M2.2 3h11.6v7.6H7.2l-3.2 2.8v-2.8H2.2z" /></Svg>;
/** A binary file (image, font…) in the file tree. */
export const ImageIcon = (p: IconProps) => <Svg {...p}><rect x="2" y="2.5" width="12" height="11" rx="1.2" /><circle cx="5.8" cy="6.2" r="1.2" /><path d="M2.5 12l3.8-3.6 2.6 2.4 2-1.8 2.6 2.6" /></Svg>;
export const SplitIcon = (p: IconProps) => <Svg {...p}><rect x="1.8" y="2.5" width="12.4" height="11" rx="1.2" /><path d="M8 2.5v11" /></Svg>;

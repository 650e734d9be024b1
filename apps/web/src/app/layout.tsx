import type { Metadata } from 'next';
import './globals.css';

export const metadata: Metadata = { title: 'Tandem', description: 'Collaborative cloud IDE for real-time code models' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}

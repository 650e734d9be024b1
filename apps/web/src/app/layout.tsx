import type { Metadata } from 'next';
import './globals.css';

// Every page is rendered per request: the server's Content-Security-Policy carries a fresh nonce
// that Next puts on its scripts (a page prerendered at build time would have none and be blocked).
export const dynamic = 'force-dynamic';

export const metadata: Metadata = { title: 'Tandem', description: 'Collaborative cloud IDE for real-time code models' };

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}

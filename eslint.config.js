// Package boundaries, enforced as errors. Each workspace may import only the @tandem packages
// listed in ALLOWED (its README says the same); apps are never imported; no deep imports; no cycles.
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const ALLOWED = {
  'packages/protocol': [],
  'packages/db': ['protocol'],
  'packages/auth': ['protocol', 'db'],
  'packages/inference': ['protocol'],
  'packages/collab': ['protocol'],
  'packages/review': ['protocol'],
  'packages/history': ['protocol'],
  'packages/sandbox': ['protocol'],
  'packages/api': ['protocol', 'db', 'auth', 'inference', 'review', 'collab', 'sandbox', 'history'],
  'apps/web': ['protocol'], // plus `import type` of the router from @tandem/api, below
  'apps/server': ['protocol', 'db', 'auth', 'api', 'inference', 'review', 'collab', 'sandbox'],
  bench: ['protocol', 'collab', 'sandbox', 'history'],
};
const ALL = ['protocol', 'db', 'auth', 'api', 'inference', 'review', 'collab', 'sandbox', 'history', 'web', 'server'];

/** Modules only the db package may import (the Prisma client and database drivers). */
const DB_ONLY = ['@prisma/client', '@prisma/client/*', '@prisma/adapter-pg', 'pg', '@electric-sql/pglite', '@electric-sql/pglite/*', 'pglite-prisma-adapter'];
/** Server-only modules a browser bundle must never contain. */
const SERVER_ONLY = ['node:*', 'fs', 'path', 'child_process', 'crypto', 'ws', 'node-pty', 'node-llama-cpp', '@node-rs/*', 'ioredis'];

function restrictions(dir, opts = {}) {
  const allowed = ALLOWED[dir];
  const patterns = [
    { group: ['@tandem/*/*', '!@tandem/*/testing'], message: 'Import packages through their root (no deep imports; `/testing` entries are public).' },
    { group: ['**/apps/**', '../../apps/*'], message: 'Packages and apps never import apps.' },
  ];
  const forbidden = ALL.filter((p) => !allowed.includes(p) && `packages/${p}` !== dir && `apps/${p}` !== dir);
  for (const p of forbidden) {
    patterns.push({
      group: [`@tandem/${p}`],
      message: `${dir} may not import @tandem/${p} (see its README).`,
      // The web app may import the API's router *type* only.
      ...(dir === 'apps/web' && p === 'api' ? { allowTypeImports: true } : {}),
    });
  }
  if (dir !== 'packages/db') patterns.push({ group: DB_ONLY, message: 'Only @tandem/db talks to the database.' });
  if (dir === 'apps/web' && !opts.testFile) patterns.push({ group: SERVER_ONLY, message: 'Browser code cannot import server-only modules.' });
  if (dir === 'apps/web') {
    patterns.push({
      regex: '^monaco-editor$',
      allowTypeImports: true,
      message: "Monaco's entry bundles every language and contribution: import it from '@/lib/ide/monaco'.",
    });
  }
  if (dir === 'packages/inference') {
    patterns.push({ group: ['@trpc/*', 'react', 'react-dom', 'yjs', 'y-*'], message: 'Inference knows nothing of tRPC, React or Yjs.' });
  }
  return patterns;
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.next/**', '**/generated/**', '**/next-env.d.ts', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.mjs'] })],
      'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-throw-literal': 'error',
    },
  },
  ...Object.keys(ALLOWED).map((dir) => ({
    files: [`${dir}/**/*.{ts,tsx,js,mjs}`],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: restrictions(dir) }] },
  })),
  // Web unit tests run in Node (node:test), never in the browser bundle.
  {
    files: ['apps/web/**/*.test.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: restrictions('apps/web', { testFile: true }) }] },
  },
);

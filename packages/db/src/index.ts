export { openDatabase, type Database, type DatabaseConfig } from './openDatabase.ts';
export { applyMigrations, readMigrations, type Migration } from './migrations.ts';
export { PrismaClient, Prisma } from './generated/client.ts';
export type { User, Project, Membership, Invite, ApiToken, Session, Suggestion, ReviewEvent, Run } from './generated/client.ts';

export { asBytes } from './bytes.ts';
export { PrismaDocumentStore } from './PrismaDocumentStore.ts';

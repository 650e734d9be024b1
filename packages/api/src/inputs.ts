import { z } from 'zod';
import { ROLES } from '@tandem/protocol';

export const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'Invalid id');
export const projectId = z.object({ projectId: id });
export const role = z.enum(ROLES);
export const email = z.string().trim().toLowerCase().email('Enter a valid email address.').max(254);
export const password = z.string().min(8, 'Use at least 8 characters.').max(256);
export const displayName = z.string().trim().min(1, 'Enter a name.').max(80);
export const projectName = z.string().trim().min(1, 'Enter a project name.').max(100);

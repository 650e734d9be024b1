import { z } from 'zod';
import { ROLES } from '@tandem/protocol';
import { MIN_PASSWORD_LENGTH } from '@tandem/auth';

export const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'Invalid id');
export const projectId = z.object({ projectId: id });
export const role = z.enum(ROLES);
export const email = z.string().trim().toLowerCase().email('Enter a valid email address.').max(254);
/** Length only; the full policy (common passwords, name/email) is `checkPasswordPolicy` in @tandem/auth. */
export const password = z.string().min(MIN_PASSWORD_LENGTH, `Use at least ${MIN_PASSWORD_LENGTH} characters.`).max(256);
export const displayName = z.string().trim().min(1, 'Enter a name.').max(80);
export const projectName = z.string().trim().min(1, 'Enter a project name.').max(100);

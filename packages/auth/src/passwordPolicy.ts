import { AppError } from '@tandem/protocol';

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/**
 * The most common passwords of public breach corpora that are 10+ characters long (shorter ones
 * fail the length rule anyway), plus their obvious variants; compared lowercased. A length rule
 * alone lets `password123` and `qwertyuiop` through.
 */
const COMMON = new Set([
  'password12', 'password123', 'password1234', 'password12345', 'password123456', 'password!!', 'password01',
  'passw0rd123', 'p@ssw0rd123', 'p@ssword123', 'passwordpassword', 'mypassword1', 'mypassword123',
  '1234567890', '0123456789', '12345678910', '123456789a', 'a123456789', '1q2w3e4r5t', '1q2w3e4r5t6y',
  'qwertyuiop', 'qwerty1234', 'qwerty12345', 'qwerty123456', 'qwertyuiop1', 'asdfghjkl1', 'asdfghjkl;',
  'zxcvbnm123', '1qaz2wsx3edc', 'qazwsxedc123', 'iloveyou12', 'iloveyou123', 'football12', 'football123',
  'baseball123', 'welcome123', 'welcome1234', 'letmein123', 'letmein1234', 'trustno1234', 'sunshine123',
  'princess123', 'monkey12345', 'dragon12345', 'master12345', 'superman123', 'batman12345', 'starwars123',
  'whatever123', 'changeme123', 'administrator', 'admin12345', 'admin123456', 'administrator1', 'default123',
  'computer123', 'internet123', 'abcdefghij', 'abcdefghijk', 'abc1234567', 'abcd123456', 'aaaaaaaaaa',
  'tandem1234', 'tandem12345', 'tandempassword',
]);

/** Throws BAD_INPUT with a message the sign-up form shows, or returns when the password is acceptable. */
export function checkPasswordPolicy(password: string, context: { email?: string; name?: string } = {}): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new AppError('BAD_INPUT', `Use at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new AppError('BAD_INPUT', `Use at most ${MAX_PASSWORD_LENGTH} characters.`);
  const lower = password.toLowerCase();
  const weak = 'This password is too common or too easy to guess. Try a few unrelated words.';
  if (COMMON.has(lower)) throw new AppError('BAD_INPUT', weak);
  // One repeated character, or a run of consecutive characters ("abcdefghij", "9876543210").
  if (new Set(lower).size <= 2 || isSequence(lower)) throw new AppError('BAD_INPUT', weak);
  const local = context.email?.split('@')[0]?.toLowerCase();
  if ((local && local.length >= 4 && lower.includes(local)) || (context.name && context.name.trim().length >= 4 && lower === context.name.trim().toLowerCase())) {
    throw new AppError('BAD_INPUT', 'The password must not contain your email address or name.');
  }
}

function isSequence(s: string): boolean {
  const step = s.charCodeAt(1) - s.charCodeAt(0);
  if (Math.abs(step) !== 1) return false;
  for (let i = 2; i < s.length; i++) if (s.charCodeAt(i) - s.charCodeAt(i - 1) !== step) return false;
  return true;
}

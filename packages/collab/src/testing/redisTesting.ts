import { randomBytes } from 'node:crypto';

/** The machine's Redis (CI starts it); override with TEST_REDIS_URL. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A channel prefix of its own per test run, so parallel runs on one Redis never meet. */
export function testRedisPrefix(): string {
  return `tandem-test:${randomBytes(6).toString('hex')}:`;
}

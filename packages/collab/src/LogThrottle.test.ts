import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogThrottle } from './LogThrottle.ts';
import { RecordingLogger } from './testing/RecordingLogger.ts';

test('a flood of warnings logs the first ones, then one line with the count per window', () => {
  const logger = new RecordingLogger();
  let now = 0;
  const throttle = new LogThrottle(logger, () => now, 3, 1000);
  for (let i = 0; i < 10; i++) throttle.warn(`bad frame ${i}`, new Error('truncated'));
  assert.deepEqual(logger.warnings, ['bad frame 0: truncated', 'bad frame 1: truncated', 'bad frame 2: truncated']);

  now = 999;
  throttle.warn('bad frame 10');
  assert.equal(logger.warnings.length, 3, 'still the same window');

  now = 1000;
  throttle.warn('bad frame 11');
  assert.deepEqual(logger.warnings.slice(3), ['8 similar warnings were suppressed in the previous 1 s: ', 'bad frame 11: ']);
  assert.deepEqual(logger.errors, []);
});

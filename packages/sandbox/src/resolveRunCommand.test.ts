import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRunCommand } from './resolveRunCommand.ts';

const f = (path: string, content = '') => ({ path, content });

test('tandem.json run wins over everything', () => {
  const r = resolveRunCommand([f('tandem.json', '{"run":"  python3 app.py --fast "}'), f('package.json', '{"scripts":{"start":"node x"}}'), f('main.py')]);
  assert.deepEqual(r, { command: 'python3 app.py --fast', source: 'tandem.json' });
});

test('invalid tandem.json or empty run falls through', () => {
  assert.equal(resolveRunCommand([f('tandem.json', '{nope'), f('main.py')])?.source, 'main.py');
  assert.equal(resolveRunCommand([f('tandem.json', '{"run":"   "}'), f('main.py')])?.source, 'main.py');
  assert.equal(resolveRunCommand([f('tandem.json', '{"run":42}'), f('index.js')])?.source, 'index.js');
  assert.equal(resolveRunCommand([f('tandem.json', '["run"]'), f('main.js')])?.source, 'main.js');
});

test('package.json start script runs through npm start', () => {
  assert.deepEqual(resolveRunCommand([f('package.json', '{"scripts":{"start":"node server.js"}}'), f('main.py')]), {
    command: 'npm start', source: 'package.json start',
  });
});

test('package.json main runs with node when the file exists, quoted when needed', () => {
  assert.deepEqual(resolveRunCommand([f('package.json', '{"main":"./src/app.js"}'), f('src/app.js')]), {
    command: 'node src/app.js', source: 'package.json main',
  });
  assert.deepEqual(resolveRunCommand([f('package.json', `{"main":"my app's.js"}`), f("my app's.js")]), {
    command: `node 'my app'\\''s.js'`, source: 'package.json main',
  });
  assert.equal(resolveRunCommand([f('package.json', '{"main":"missing.js"}'), f('index.js')])?.source, 'index.js');
  assert.equal(resolveRunCommand([f('package.json', '{"main":"../../etc/passwd"}')]), null);
});

test('main.py, then index.js, then main.js; nested files do not count', () => {
  assert.equal(resolveRunCommand([f('main.js'), f('index.js'), f('main.py')])?.command, 'python3 main.py');
  assert.equal(resolveRunCommand([f('main.js'), f('index.js')])?.command, 'node index.js');
  assert.equal(resolveRunCommand([f('main.js')])?.command, 'node main.js');
  assert.equal(resolveRunCommand([f('src/main.py'), f('lib/index.js')]), null);
  assert.equal(resolveRunCommand([]), null);
});

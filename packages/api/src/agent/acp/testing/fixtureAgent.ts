/**
 * A scripted ACP agent for tests, written with the official SDK (agent side) and bundled into one
 * file that runs inside the real sandbox. What it does is chosen by a word in the task:
 *   (none)     reads src/math.js, thinks, plans, writes src/math.js and src/new.js, asks permission
 *              for a command and runs it through terminal/*, streams messages; answers steering;
 *              reports its token usage with each turn (the others report none).
 *   forbidden  tries .env and a path outside the project, reports the errors it got.
 *   disk       writes a file through fs/*, reads it back from disk, then writes files straight to
 *              /project, bypassing fs/*, then one more file through fs/* (and checks the disk kept them).
 *   wait       says it started, then waits for session/cancel and answers `cancelled`.
 *   secret     like wait, first saying the FIXTURE_SECRET it got in its environment.
 *   crash      exits with code 3 in the middle of a turn.
 *   malformed  prints a line that is not JSON on stdout.
 *   hang       goes silent and never answers.
 *   elicit     asks for elicitation/create, which Tandem does not offer.
 *   flood      announces tool calls without end until it is cancelled (the step limit).
 *   huge       sends one 9 MiB frame.
 *   signin     answers the prompt with ACP's auth_required error (what agents without a key do).
 *   bench:<n>:<w>  w warm-up then n timed fs/read_text_file round trips, the same for
 *              fs/write_text_file (src/math.js with a changing last line), then n message chunks
 *              stamped with the wall clock (µs), and a last thought with the round trips, their
 *              start times and its own GC pauses as JSON (bench/acp.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { agent, methods, ndJsonStream, PROTOCOL_VERSION, RequestError, type AgentContext, type SessionUpdate } from '@agentclientprotocol/sdk';

const stream = ndJsonStream(Writable.toWeb(process.stdout) as WritableStream<Uint8Array>, Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>);
let onCancel: (() => void) | null = null;
let turns = 0;
let usage = false;
const USAGE = [
  { inputTokens: 1200, outputTokens: 300, cachedReadTokens: 500, totalTokens: 2000 },
  { inputTokens: 1500, outputTokens: 20, totalTokens: 1520 },
];

function say(client: AgentContext, sessionId: string, update: SessionUpdate): Promise<void> {
  return client.notify(methods.client.session.update, { sessionId, update });
}

const text = (t: string) => ({ type: 'text' as const, text: t });

async function script(client: AgentContext, sessionId: string, task: string): Promise<'end_turn' | 'cancelled'> {
  const send = (u: SessionUpdate) => say(client, sessionId, u);
  if (turns++ > 0) {
    await send({ sessionUpdate: 'agent_message_chunk', content: text(`Steered: ${task}`) });
    return 'end_turn';
  }
  if (task.includes('crash')) {
    await send({ sessionUpdate: 'agent_message_chunk', content: text('About to crash.') });
    process.stderr.write('fixture: boom\n');
    process.exit(3);
  }
  if (task.includes('malformed')) {
    process.stdout.write('this is not json\n');
    return new Promise(() => undefined);
  }
  if (task.includes('hang')) return new Promise(() => undefined);
  if (task.includes('signin')) throw RequestError.authRequired();
  if (task.includes('flood')) {
    let cancelled = false;
    onCancel = () => (cancelled = true);
    for (let i = 0; !cancelled && i < 10_000; i++) {
      await send({ sessionUpdate: 'tool_call', toolCallId: `flood-${i}`, title: `Step ${i}`, kind: 'think', status: 'completed' });
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return 'cancelled';
  }
  if (task.includes('huge')) {
    await send({ sessionUpdate: 'agent_message_chunk', content: text('x'.repeat(9 * 1024 * 1024)) });
    return 'end_turn';
  }
  if (task.startsWith('bench:')) {
    const [n, warmup] = task.slice(6).split(':').map(Number) as [number, number];
    const path = '/project/src/math.js';
    const read = () => client.request(methods.client.fs.readTextFile, { sessionId, path });
    const original = (await read()).content;
    let writes = 0;
    const write = () => client.request(methods.client.fs.writeTextFile, { sessionId, path, content: `${original}// write ${writes++}\n` });
    // Its own GC pauses during the timed calls (wall clock, ms), so the bench can say where the tail is.
    const gc: number[][] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gc.push([performance.timeOrigin + e.startTime, e.duration]);
    });
    const timed = async (call: () => Promise<unknown>): Promise<{ first: number | undefined; rtts: number[]; gaps: number[] }> => {
      for (let i = 0; i < warmup; i++) await call();
      observer.observe({ entryTypes: ['gc'] });
      const rtts: number[] = [];
      const sent: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        sent.push(performance.timeOrigin + t0);
        await call();
        rtts.push(performance.now() - t0);
      }
      observer.disconnect();
      // In 10 µs units, the starts as gaps after the first: 1000 calls fit in one transcript item.
      return { first: sent[0], rtts: rtts.map((ms) => Math.round(ms * 100)), gaps: sent.map((at, i) => Math.round((at - (sent[i - 1] ?? at)) * 100)) };
    };
    const reads = await timed(read);
    const written = await timed(write);
    // Paced like a streaming model (~300 chunks/s), so the latency is not a queue of our own making.
    for (let i = 0; i < n; i++) {
      await send({ sessionUpdate: 'agent_message_chunk', content: text(`@${Math.round((performance.timeOrigin + performance.now()) * 1000)};`) });
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    await send({ sessionUpdate: 'agent_thought_chunk', content: text(JSON.stringify({ reads, writes: written, gc: gc.map(([at, ms]) => [Math.round(at!), Math.round(ms! * 100) / 100]) })) });
    return 'end_turn';
  }
  if (task.includes('elicit')) {
    await client.request('elicitation/create', { sessionId, message: 'Your API key?', requestedSchema: { type: 'object', properties: {} } });
    return 'end_turn';
  }
  if (task.includes('wait') || task.includes('secret')) {
    if (task.includes('secret')) await send({ sessionUpdate: 'agent_message_chunk', content: text(`secret=${process.env.FIXTURE_SECRET}\n`) });
    await send({ sessionUpdate: 'agent_message_chunk', content: text('Working until cancelled.') });
    await new Promise<void>((resolve) => (onCancel = resolve));
    return 'cancelled';
  }
  if (task.includes('forbidden')) {
    const errors: string[] = [];
    for (const path of ['/project/.env', '/etc/passwd', '/project/../etc/passwd']) {
      try {
        const r = await client.request(methods.client.fs.readTextFile, { sessionId, path });
        errors.push(`${path}: READ ${r.content.length} chars`);
      } catch (e) {
        errors.push(`${path}: ${(e as Error).message}`);
      }
    }
    try {
      await client.request(methods.client.fs.writeTextFile, { sessionId, path: '/project/.env', content: 'X=1\n' });
      errors.push('write .env: WROTE');
    } catch (e) {
      errors.push(`write .env: ${(e as Error).message}`);
    }
    await send({ sessionUpdate: 'agent_message_chunk', content: text(errors.join('\n')) });
    return 'end_turn';
  }
  if (task.includes('disk')) {
    // Its own shell sees what it wrote through fs/*, then it changes the file further on disk.
    await client.request(methods.client.fs.writeTextFile, { sessionId, path: '/project/src/math.js', content: 'export const add = (a, b) => a + b; // via fs\n' });
    const seen = readFileSync('/project/src/math.js', 'utf8');
    writeFileSync('/project/src/math.js', `${seen}// then on disk\n`);
    mkdirSync('/project/gen', { recursive: true });
    writeFileSync('/project/gen/direct.txt', 'written on disk\n');
    // A later fs/* write of another file leaves those disk changes where they are.
    await client.request(methods.client.fs.writeTextFile, { sessionId, path: '/project/src/after.js', content: 'export {};\n' });
    const kept = readFileSync('/project/src/math.js', 'utf8').includes('// then on disk') && readFileSync('/project/gen/direct.txt', 'utf8') === 'written on disk\n';
    await send({ sessionUpdate: 'agent_message_chunk', content: text(`Disk had: ${seen.trim()}`) });
    await send({ sessionUpdate: 'agent_message_chunk', content: text(kept ? ' Disk kept.' : ' Disk lost.') });
    return 'end_turn';
  }

  usage = true;
  // Its session log in its HOME, as real agents keep one (~/.claude, ~/.codex): not a change to review.
  mkdirSync(`${process.env.HOME}/.fixture`, { recursive: true });
  writeFileSync(`${process.env.HOME}/.fixture/session.json`, JSON.stringify({ task }));
  await send({ sessionUpdate: 'agent_thought_chunk', content: text('Let me look at math.js first.') });
  await send({ sessionUpdate: 'plan', entries: [
    { content: 'Read math.js', priority: 'high', status: 'in_progress' },
    { content: 'Add multiply and a helper', priority: 'medium', status: 'pending' },
  ] });
  await send({ sessionUpdate: 'tool_call', toolCallId: 'read-1', title: 'Read src/math.js', kind: 'read', status: 'in_progress', locations: [{ path: '/project/src/math.js' }], rawInput: { path: 'src/math.js' } });
  const read = await client.request(methods.client.fs.readTextFile, { sessionId, path: '/project/src/math.js' }).catch(() => ({ content: '' }));
  await send({ sessionUpdate: 'tool_call_update', toolCallId: 'read-1', status: 'completed', content: [{ type: 'content', content: text(`${read.content.split('\n').length} lines`) }] });
  await send({ sessionUpdate: 'agent_message_chunk', content: text(`math.js has ${read.content.length} characters. `) });
  await send({ sessionUpdate: 'tool_call', toolCallId: 'edit-1', title: 'Edit src/math.js, create src/new.js', kind: 'edit', status: 'in_progress' });
  await client.request(methods.client.fs.writeTextFile, { sessionId, path: '/project/src/math.js', content: `${read.content}export const mul = (a, b) => a * b;\n` });
  await client.request(methods.client.fs.writeTextFile, { sessionId, path: '/project/src/new.js', content: 'console.log("new file");\n' });
  await send({ sessionUpdate: 'tool_call_update', toolCallId: 'edit-1', status: 'completed' });
  await send({ sessionUpdate: 'plan', entries: [
    { content: 'Read math.js', priority: 'high', status: 'completed' },
    { content: 'Add multiply and a helper', priority: 'medium', status: 'completed' },
  ] });

  const command = 'cat src/new.js && echo ran-in-sandbox';
  await send({ sessionUpdate: 'tool_call', toolCallId: 'run-1', title: `Run ${command}`, kind: 'execute', status: 'pending', rawInput: { command } });
  const permission = await client.request(methods.client.session.requestPermission, {
    sessionId,
    toolCall: { toolCallId: 'run-1', title: `Run ${command}`, kind: 'execute', rawInput: { command } },
    options: [
      { optionId: 'yes', name: 'Allow', kind: 'allow_once' },
      { optionId: 'always', name: 'Always allow', kind: 'allow_always' },
      { optionId: 'no', name: 'Deny', kind: 'reject_once' },
    ],
  });
  if (permission.outcome.outcome === 'cancelled') return 'cancelled';
  if (permission.outcome.optionId === 'no') {
    await send({ sessionUpdate: 'tool_call_update', toolCallId: 'run-1', status: 'failed' });
    await send({ sessionUpdate: 'agent_message_chunk', content: text('Permission denied; skipping the command.') });
    return 'end_turn';
  }
  const terminal = await client.request(methods.client.terminal.create, { sessionId, command: 'sh', args: ['-c', command] });
  await send({ sessionUpdate: 'tool_call_update', toolCallId: 'run-1', status: 'in_progress', content: [{ type: 'terminal', terminalId: terminal.terminalId }] });
  const exit = await client.request(methods.client.terminal.waitForExit, { sessionId, terminalId: terminal.terminalId });
  const output = await client.request(methods.client.terminal.output, { sessionId, terminalId: terminal.terminalId });
  await client.request(methods.client.terminal.release, { sessionId, terminalId: terminal.terminalId });
  await send({ sessionUpdate: 'tool_call_update', toolCallId: 'run-1', status: exit.exitCode === 0 ? 'completed' : 'failed' });
  await send({ sessionUpdate: 'agent_message_chunk', content: text(`Command exited ${exit.exitCode}: ${output.output.trim().split('\n').pop()}`) });
  return 'end_turn';
}

agent({ name: 'tandem-fixture' })
  .onRequest(methods.agent.initialize, () => ({ protocolVersion: PROTOCOL_VERSION, agentCapabilities: {}, authMethods: [] }))
  .onRequest(methods.agent.session.new, () => ({ sessionId: 'fixture-session' }))
  .onRequest(methods.agent.session.prompt, async ({ params, client }) => {
    const task = params.prompt.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const stopReason = await script(client, params.sessionId, task);
    // The default script reports its token usage (ACP's unstable PromptResponse.usage); the others do not.
    return usage ? { stopReason, usage: USAGE[turns - 1] } as { stopReason: typeof stopReason } : { stopReason };
  })
  .onNotification(methods.agent.session.cancel, () => {
    onCancel?.();
  })
  .connect(stream);

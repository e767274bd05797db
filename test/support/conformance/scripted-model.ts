/**
 * A loopback Anthropic Messages API (`POST /v1/messages`, what the SDK calls with `baseURL`)
 * whose "model" is a small script: it runs the bash script the bead's prompt carries after
 * `RUN:` with `run_command`, calls `finish` when the command succeeded, and otherwise answers
 * in prose (giving up, so the agent's own turn limit ends the run). Replies are shaped like
 * the recorded ones in test/fixtures/anthropic-agent.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const template = JSON.parse(readFileSync(new URL('../../fixtures/anthropic-agent/03-run-command.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;

interface Body {
  messages: { role: string; content: string | { type: string; text?: string; content?: string; is_error?: boolean }[] }[];
}

let ids = 0;

function reply(content: unknown[]): Record<string, unknown> {
  const toolUse = content.some((c) => (c as { type: string }).type === 'tool_use');
  return { ...template, id: `msg_conformance${++ids}`, content, stop_reason: toolUse ? 'tool_use' : 'end_turn' };
}

function answer(body: Body): Record<string, unknown> {
  const last = body.messages[body.messages.length - 1]!;
  if (typeof last.content === 'string') {
    const script = last.content.split('RUN:\n')[1] ?? 'false';
    return reply([{ type: 'tool_use', id: `toolu_conformance${++ids}`, name: 'run_command', input: { command: script } }]);
  }
  const result = last.content.find((c) => c.type === 'tool_result');
  if (result && !result.is_error) {
    const firstLine = String(result.content ?? '').split('\n')[0];
    return reply([
      { type: 'tool_use', id: `toolu_conformance${++ids}`, name: 'finish', input: { summary: `Ran the command (${firstLine}).` } },
    ]);
  }
  return reply([{ type: 'text', text: 'The command did not succeed and I cannot fix it.' }]);
}

export async function startScriptedModel(): Promise<{ baseURL: string; calls: () => number; stop(): Promise<void> }> {
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls += 1;
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not found' } }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_conformance${calls}` }).end(JSON.stringify(answer(body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

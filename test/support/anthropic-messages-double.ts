/**
 * A loopback stand-in for the Anthropic Messages API (`POST /v1/messages`) that plays a
 * scripted conversation: each request is answered by the next step of the script, in order,
 * whichever process sends it (a CLI started, killed and started again talks to one double).
 *
 * It speaks the real protocol, as far as our clients can tell: it refuses a request without
 * an API key (401) or `anthropic-version`, checks the request as the API does (a user turn
 * first, roles known, every `tool_use` answered by a `tool_result` at the start of the next
 * user turn: the API's 400 otherwise), answers JSON shaped like the recorded replies in
 * test/fixtures/anthropic-agent, or Server-Sent Events when `stream: true`. Point the SDK at
 * it with `baseURL` or `ANTHROPIC_BASE_URL`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content?: unknown; is_error?: boolean };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  stream?: boolean;
  system?: unknown;
  tools?: { name: string; input_schema: unknown }[];
  messages: { role: 'user' | 'assistant'; content: string | Block[] }[];
}

/** One step: checks the request (throw to fail it: the double answers 500 and records why) and says what the model answers. */
export type Step = (req: MessagesRequest) => Block[];

let seq = 0;
export const text = (t: string): Block => ({ type: 'text', text: t });
export const toolUse = (name: string, input: unknown): Block => ({ type: 'tool_use', id: `toolu_double${++seq}`, name, input });

/** The text of a request's last user turn (its text blocks and tool results, joined). */
export function lastUserText(req: MessagesRequest): string {
  const last = [...req.messages].reverse().find((m) => m.role === 'user');
  return last ? contentText(last.content) : '';
}

/** Everything said in a request, in order (for "does the model see the earlier context"). */
export function allText(req: MessagesRequest): string {
  return req.messages.map((m) => contentText(m.content)).join('\n');
}

function contentText(content: string | Block[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((b) =>
      b.type === 'text'
        ? b.text
        : b.type === 'tool_result'
          ? typeof b.content === 'string'
            ? b.content
            : JSON.stringify(b.content)
          : JSON.stringify(b.input),
    )
    .join('\n');
}

export interface AnthropicMessagesDouble {
  baseURL: string;
  /** Every request the double accepted, in order. */
  readonly requests: MessagesRequest[];
  /** Steps still to play. */
  remaining(): number;
  /** Why a request was refused or a step's check failed (empty when all went to script). */
  readonly failures: string[];
  stop(): Promise<void>;
}

export async function startAnthropicMessagesDouble(script: Step[]): Promise<AnthropicMessagesDouble> {
  const steps = [...script];
  const requests: MessagesRequest[] = [];
  const failures: string[] = [];
  const fail = (res: ServerResponse, status: number, type: string, message: string) => {
    failures.push(message);
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_double${++seq}` });
    res.end(JSON.stringify({ type: 'error', error: { type, message } }));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages'))
        return fail(res, 404, 'not_found_error', `not found: ${req.method} ${req.url}`);
      const key = req.headers['x-api-key'] ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!key) return fail(res, 401, 'authentication_error', 'x-api-key header is required');
      if (!req.headers['anthropic-version']) return fail(res, 400, 'invalid_request_error', 'anthropic-version header is required');
      let body: MessagesRequest;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MessagesRequest;
      } catch {
        return fail(res, 400, 'invalid_request_error', 'body is not JSON');
      }
      const problem = requestProblem(body);
      if (problem) return fail(res, 400, 'invalid_request_error', problem);
      const step = steps.shift();
      if (!step) return fail(res, 500, 'api_error', `the script has no step for request ${requests.length + 1}`);
      let content: Block[];
      try {
        content = step(body);
      } catch (err) {
        return fail(res, 500, 'api_error', `step ${requests.length + 1}: ${(err as Error).message}`);
      }
      requests.push(body);
      const message = {
        id: `msg_double${++seq}`,
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: Math.ceil(JSON.stringify(body.messages).length / 4),
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
          output_tokens: Math.ceil(JSON.stringify(content).length / 4),
        },
      };
      if (body.stream) return streamed(res, message);
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_double${seq}` }).end(JSON.stringify(message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failures,
    remaining: () => steps.length,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the API refuses with a 400 (the checks our clients could get wrong). */
function requestProblem(body: MessagesRequest): string | null {
  if (typeof body.model !== 'string' || !body.model) return 'model: Field required';
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  if (body.messages[0]!.role !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i]!;
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (Array.isArray(m.content) && m.content.length === 0) return `messages.${i}: all messages must have non-empty content`;
    const uses = Array.isArray(m.content) && m.role === 'assistant' ? m.content.filter((b) => b.type === 'tool_use') : [];
    if (!uses.length) continue;
    const next = body.messages[i + 1];
    const results = next && Array.isArray(next.content) ? next.content : [];
    const answered = new Set(results.filter((b) => b.type === 'tool_result').map((b) => (b as { tool_use_id: string }).tool_use_id));
    const firstNonResult = results.findIndex((b) => b.type !== 'tool_result');
    const lastResult = results.map((b) => b.type).lastIndexOf('tool_result');
    if (uses.some((u) => !answered.has((u as { id: string }).id)) || (firstNonResult !== -1 && firstNonResult < lastResult))
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
  }
  return null;
}

function streamed(res: ServerResponse, message: { content: Block[]; usage: { output_tokens: number } } & Record<string, unknown>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  send('message_start', {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } },
  });
  message.content.forEach((b, index) => {
    if (b.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } });
    } else if (b.type === 'tool_use') {
      send('content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      send('content_block_delta', {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) },
      });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: message.stop_reason, stop_sequence: null },
    usage: { output_tokens: message.usage.output_tokens },
  });
  send('message_stop', { type: 'message_stop' });
  res.end();
}

/**
 * A loopback stand-in for the Anthropic Messages API on 127.0.0.1 (`POST /v1/messages`, where
 * the SDK goes with `baseURL` or `ANTHROPIC_BASE_URL`), for CLI processes and in-process
 * runners alike (no nock). It plays scripted tool-use conversations: `reply(turn, request)`
 * says what the model answers on the `turn`-th assistant message of a conversation (0-based,
 * counted from the request's own history, so each bead's run is its own conversation), with
 * the usage figures the API would report. It checks what the real API checks first (an API
 * key, `anthropic-version`, `model`, `max_tokens`, `messages`) and answers in its shapes and
 * error format; replies are shaped like the recorded ones in test/fixtures/anthropic-agent.
 * Streaming is not played: the built-in agent does not stream, and a `stream: true` request
 * gets a 400 so a test that starts streaming fails loudly instead of hanging.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DoubleUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ContentBlock = { type: 'text'; text: string } | { type: 'tool_use'; name: string; input: Record<string, unknown> };

export interface ScriptedReply {
  content: ContentBlock[];
  usage: DoubleUsage;
}

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  system?: unknown;
  tools?: { name: string }[];
  messages: { role: 'user' | 'assistant'; content: unknown }[];
}

export interface RecordedCall {
  request: MessagesRequest;
  /** The first user message's text: which conversation (bead prompt) this call belongs to. */
  conversation: string;
  turn: number;
  usage: DoubleUsage | null;
  status: number;
}

export interface AnthropicDouble {
  baseURL: string;
  calls: RecordedCall[];
  /** Usage summed over every answered call: what a test compares `gt costs` with. */
  reported(): Required<DoubleUsage>;
  stop(): Promise<void>;
}

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((c: { type?: string; text?: string }) => (c.type === 'text' ? (c.text ?? '') : '')).join('\n');
}

const apiError = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAnthropicDouble(opts: {
  reply: (turn: number, request: MessagesRequest) => ScriptedReply | Promise<ScriptedReply>;
  apiKey?: string;
}): Promise<AnthropicDouble> {
  const calls: RecordedCall[] = [];
  let ids = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const send = (status: number, body: string) =>
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_double${++ids}` }).end(body);
      const raw = await readBody(req);
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) return send(404, apiError('not_found_error', 'Not found'));
      const key = req.headers['x-api-key'] ?? String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!key || (opts.apiKey && key !== opts.apiKey)) return send(401, apiError('authentication_error', 'invalid x-api-key'));
      if (!req.headers['anthropic-version']) return send(400, apiError('invalid_request_error', 'anthropic-version header is required'));
      let request: MessagesRequest & { stream?: boolean };
      try {
        request = JSON.parse(raw) as MessagesRequest & { stream?: boolean };
      } catch {
        return send(400, apiError('invalid_request_error', 'body is not valid JSON'));
      }
      for (const field of ['model', 'max_tokens', 'messages'] as const)
        if (request[field] === undefined) return send(400, apiError('invalid_request_error', `${field}: Field required`));
      if (request.stream) return send(400, apiError('invalid_request_error', 'the double does not stream'));
      const turn = request.messages.filter((m) => m.role === 'assistant').length;
      const conversation = textOf(request.messages[0]?.content);
      let scripted: ScriptedReply;
      try {
        scripted = await opts.reply(turn, request);
      } catch (err) {
        calls.push({ request, conversation, turn, usage: null, status: 500 });
        return send(500, apiError('api_error', (err as Error).message));
      }
      calls.push({ request, conversation, turn, usage: scripted.usage, status: 200 });
      const content = scripted.content.map((c) => (c.type === 'tool_use' ? { ...c, id: `toolu_double${++ids}` } : c));
      const usage = { cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...scripted.usage, service_tier: 'standard' };
      send(
        200,
        JSON.stringify({
          id: `msg_double${++ids}`,
          type: 'message',
          role: 'assistant',
          model: request.model,
          content,
          stop_reason: content.some((c) => c.type === 'tool_use') ? 'tool_use' : 'end_turn',
          stop_sequence: null,
          usage,
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    reported() {
      const sum = { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
      for (const c of calls) if (c.usage) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += c.usage[k] ?? 0;
      return sum;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

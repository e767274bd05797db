import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { GastownError, isGastownError } from '../../src/errors.js';
import { MAYOR_SYSTEM_PROMPT, planWithModel } from '../../src/mayor/model-planner.js';
import { planJsonSchema } from '../../src/mayor/plan-schema.js';
import { anthropicFixture, mockMessages, testClient } from './anthropic-fixtures.js';

const CONTEXT = '<untrusted_issue>\nTitle: Add rate limiting\n\nThe public API needs rate limits.\n</untrusted_issue>';

function recorder() {
  const sleeps: number[] = [];
  const warnings: Array<{ o: object; m: string }> = [];
  return {
    sleeps,
    warnings,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    logger: { info: () => {}, warn: (o: object, m: string) => warnings.push({ o, m }) },
  };
}

async function rejection(p: Promise<unknown>): Promise<GastownError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GastownError);
  return err as GastownError;
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
});

describe('planWithModel', () => {
  it('returns the submitted plan with usage and cost, forcing the submit_plan tool with a cached system prompt', async () => {
    const { scope, bodies } = mockMessages(['plan-valid.json']);
    const r = recorder();

    const result = await planWithModel({
      client: testClient(),
      model: 'claude-sonnet-4-6',
      context: CONTEXT,
      maxBeads: 5,
      sleep: r.sleep,
      logger: r.logger,
    });

    expect(scope.isDone()).toBe(true);
    expect(result.plan).toEqual(anthropicFixture('plan-valid.json').content[0].input);
    expect(result.attempts).toBe(1);
    // 412 in x $3 + 587 out x $15 + 1630 cache writes x $3.75, per million tokens.
    expect(result.usage).toEqual({ inputTokens: 412, outputTokens: 587, cacheWriteTokens: 1630, cacheReadTokens: 0, costUsd: 0.016154 });
    const body = bodies[0];
    expect(body.model).toBe('claude-sonnet-4-6');
    expect(body.tool_choice).toEqual({ type: 'tool', name: 'submit_plan' });
    expect(body.tools).toHaveLength(1);
    expect(body.tools[0].name).toBe('submit_plan');
    expect(body.tools[0].input_schema).toEqual(planJsonSchema(5));
    expect(body.tools[0].input_schema.properties.beads.maxItems).toBe(5);
    expect(body.system).toEqual([{ type: 'text', text: MAYOR_SYSTEM_PROMPT, cache_control: { type: 'ephemeral' } }]);
    expect(body.messages).toHaveLength(1);
    expect(body.messages[0].role).toBe('user');
    expect(body.messages[0].content).toContain(CONTEXT);
    expect(r.sleeps).toEqual([]);
  });

  it('sends the validation errors back as an error tool_result and accepts the corrected plan', async () => {
    const { scope, bodies } = mockMessages(['plan-cycle.json', 'plan-unknown-key.json', 'plan-valid-cached.json']);
    const r = recorder();

    const result = await planWithModel({
      client: testClient(),
      model: 'claude-sonnet-4-6',
      context: CONTEXT,
      maxBeads: 5,
      sleep: r.sleep,
      logger: r.logger,
    });

    expect(scope.isDone()).toBe(true);
    expect(result.attempts).toBe(3);
    expect(result.plan.beads.map((b) => b.key)).toEqual(['bucket', 'middleware', 'docs']);
    // Every call counts, the rejected ones included.
    expect(result.usage.inputTokens).toBe(412 + 530 + 655);
    expect(result.usage.outputTokens).toBe(402 + 298 + 561);
    expect(result.usage.cacheWriteTokens).toBe(1630);
    expect(result.usage.cacheReadTokens).toBe(1630 + 1630);
    expect(result.usage.costUsd).toBeCloseTo(((412 + 530 + 655) * 3 + (402 + 298 + 561) * 15 + 1630 * 3.75 + 3260 * 0.3) / 1e6, 5);

    const second = bodies[1].messages;
    expect(second).toHaveLength(3);
    expect(second[1]).toEqual({
      role: 'assistant',
      content: [
        {
          type: 'tool_use',
          id: 'toolu_01D7FLrfh4GYq7yT1ULFeyMV',
          name: 'submit_plan',
          input: anthropicFixture('plan-cycle.json').content[1].input,
        },
      ],
    });
    const firstResult = second[2].content[0];
    expect(firstResult).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_01D7FLrfh4GYq7yT1ULFeyMV', is_error: true });
    expect(firstResult.content).toMatch(/cycle: .*bucket.*->/);

    const third = bodies[2].messages;
    expect(third).toHaveLength(5);
    expect(third[4].content[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_01PGiVZkAeVRHyvbTS3PvqeZ', is_error: true });
    expect(third[4].content[0].content).toContain('bead "middleware" is blocked by unknown key "limiter-core"');
    // The cached prefix must be byte-identical on every turn.
    expect(bodies[2].system).toEqual(bodies[0].system);
    expect(bodies[2].tools).toEqual(bodies[0].tools);
    expect(r.warnings.filter((w) => w.m === 'Model plan rejected')).toHaveLength(2);
  });

  it('gives up with gastown_plan_invalid after the retries, carrying the errors and the usage', async () => {
    const { scope } = mockMessages(['plan-cycle.json', 'plan-unknown-key.json', 'plan-schema-invalid.json']);

    const err = await rejection(
      planWithModel({ client: testClient(), model: 'claude-sonnet-4-6', context: CONTEXT, maxBeads: 5, sleep: async () => {} }),
    );

    expect(scope.isDone()).toBe(true);
    expect(err.code).toBe('gastown_plan_invalid');
    const errors = err.details?.['errors'] as string[];
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^beads\.0\.title: /), expect.stringMatching(/^beads\.0\.acceptance: /)]),
    );
    expect(err.message).toContain('after 3 attempts');
    expect(err.details?.['usage']).toMatchObject({ inputTokens: 412 + 530 + 412, outputTokens: 402 + 298 + 120 });
  });

  it('honours maxPlanRetries: 0 (one plan, no correction turn)', async () => {
    const { scope } = mockMessages(['plan-cycle.json']);

    const err = await rejection(planWithModel({ client: testClient(), model: 'm', context: CONTEXT, maxBeads: 5, maxPlanRetries: 0 }));

    expect(scope.isDone()).toBe(true);
    expect(err.code).toBe('gastown_plan_invalid');
    expect(err.details?.['errors']).toEqual([expect.stringMatching(/cycle/)]);
  });

  it('rejects a plan larger than maxBeads and says so to the model', async () => {
    const { bodies } = mockMessages(['plan-valid.json', 'plan-unknown-key.json']);

    const err = await rejection(planWithModel({ client: testClient(), model: 'm', context: CONTEXT, maxBeads: 2, maxPlanRetries: 1 }));

    expect(err.code).toBe('gastown_plan_invalid');
    expect(bodies[1].messages[2].content[0].content).toMatch(/beads: Too big|at most 2/);
  });

  it('retries 429 and 529 with backoff through the injected sleep, then succeeds', async () => {
    const { scope, bodies } = mockMessages([
      [429, 'error-rate-limit.json', { 'retry-after': '5' }],
      [529, 'error-overloaded.json'],
      'plan-valid.json',
    ]);
    const r = recorder();

    const result = await planWithModel({
      client: testClient(),
      model: 'claude-sonnet-4-6',
      context: CONTEXT,
      maxBeads: 5,
      sleep: r.sleep,
      logger: r.logger,
    });

    expect(scope.isDone()).toBe(true);
    expect(bodies).toHaveLength(3);
    expect(bodies[2]).toEqual(bodies[0]);
    // Retry-After (5 s) beats the first backoff step (1 s); the second step is 2 s.
    expect(r.sleeps).toEqual([5000, 2000]);
    expect(result.attempts).toBe(1);
    expect(result.usage.inputTokens).toBe(412);
    expect(r.warnings.map((w) => w.o)).toEqual([
      { status: 429, retry: 1, delayMs: 5000 },
      { status: 529, retry: 2, delayMs: 2000 },
    ]);
  });

  it('throws gastown_model after persistent 500s, having retried maxTransientRetries times', async () => {
    const { scope, bodies } = mockMessages([
      [500, 'error-api.json'],
      [500, 'error-api.json'],
      [500, 'error-api.json'],
      [500, 'error-api.json'],
    ]);
    const r = recorder();

    const err = await rejection(planWithModel({ client: testClient(), model: 'm', context: CONTEXT, maxBeads: 5, sleep: r.sleep }));

    expect(scope.isDone()).toBe(true);
    expect(bodies).toHaveLength(4);
    expect(err.code).toBe('gastown_model');
    expect(err.message).toContain('failed 4 times');
    expect(err.details).toMatchObject({ status: 500, retryable: true, calls: 4 });
    expect(r.sleeps).toEqual([1000, 2000, 4000]);
  });

  it('does not retry a request the API rejects as invalid', async () => {
    const { scope } = mockMessages([[400, 'error-invalid-request.json']]);
    const r = recorder();

    const err = await rejection(planWithModel({ client: testClient(), model: 'm', context: CONTEXT, maxBeads: 5, sleep: r.sleep }));

    expect(scope.isDone()).toBe(true);
    expect(isGastownError(err, 'gastown_model')).toBe(true);
    expect(err.details).toMatchObject({ status: 400, retryable: false, calls: 1 });
    expect(r.sleeps).toEqual([]);
  });
  it('asks again in plain text when the model answers without calling the tool', async () => {
    const { scope, bodies } = mockMessages(['no-tool-call.json', 'plan-valid.json']);

    const result = await planWithModel({
      client: testClient(),
      model: 'claude-sonnet-4-6',
      context: CONTEXT,
      maxBeads: 5,
      sleep: async () => {},
    });

    expect(scope.isDone()).toBe(true);
    expect(result.attempts).toBe(2);
    expect(result.usage.outputTokens).toBe(14 + 587);
    const retry = bodies[1].messages;
    expect(retry[1]).toEqual({
      role: 'assistant',
      content: [{ type: 'text', text: 'I need more information about the API before planning.' }],
    });
    expect(retry[2].role).toBe('user');
    expect(retry[2].content).toContain('no submit_plan tool call in the response');
  });

  it('refuses a maxBeads outside 1 to 50 before calling the API', async () => {
    const err = await rejection(planWithModel({ client: testClient(), model: 'm', context: CONTEXT, maxBeads: 0 }));

    expect(err.code).toBe('gastown_bad_input');
  });
});

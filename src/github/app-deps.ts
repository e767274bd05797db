/**
 * The services the app's handlers call, built once per process from the environment.
 * Tests build their own `AppDeps` and pass them to `createGastownApp`.
 */
import { loadEnvConfig } from '../config/env-config.js';
import { GastownError } from '../errors.js';
import { VERSION } from '../version.js';
import type { PlanIssueDeps } from './plan-issue-deps.js';

export interface AppDeps {
  plan: PlanIssueDeps;
  /** Default model for repos whose config names none (GASTOWN_MODEL). */
  defaultModel: string;
  version: string;
}

/**
 * The ledger-backed rig service and the Mayor are not wired yet: until they are, every
 * dependency fails with a clear coded error, which the handlers turn into a comment, rather
 * than the app pretending to plan.
 */
export function createAppDeps(env: Record<string, string | undefined>): AppDeps {
  const config = loadEnvConfig(env);
  const notWired = (what: string) => async (): Promise<never> => {
    throw new GastownError('gastown_config', `This Gas Town server has no ${what} configured yet.`);
  };
  return {
    defaultModel: config.model,
    version: VERSION,
    plan: {
      mayor: { plan: notWired('Mayor') },
      findConvoy: async () => null,
      recordPlan: notWired('ledger'),
      recordLink: notWired('ledger'),
      recordStatusComment: notWired('ledger'),
      approve: notWired('ledger'),
      markMaterialised: notWired('ledger'),
      recordFailure: async () => undefined,
      clock: () => new Date(),
    },
  };
}

/**
 * Everything the CLI loads only when a command needs it: the long-running groups (runner,
 * Refinery, Deacon, demo), the workflow installer, the Actions token exchange, and the
 * Mayor with the Anthropic SDK for `gt sling "<goal>"`. One module on purpose: the bundle build (scripts/bundle-cli.mjs)
 * makes it a second file, so the code most commands never run is neither read nor compiled
 * when they start.
 */
export { registerRunner } from './commands/runner.js';
export { registerRefinery } from './commands/refinery.js';
export { registerDeacon } from './commands/deacon.js';
export { registerDemo } from './commands/demo.js';
export { registerInstallWorkflow } from './commands/install-workflow.js';
export { registerAppToken } from './commands/app-token.js';
export { registerMayor } from './commands/mayor.js';
export { anthropicFromEnv } from '../model/anthropic.js';
export { goalPlanner } from '../mayor/goal-planner.js';

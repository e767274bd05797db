import type { Links } from './blocks.js';
import type { PermissionChecker } from '../town/permissions.js';
import type { IdentityResolver } from './permissions.js';
import type { SlackServices } from './services.js';
import type { StructuredLogger } from '../structured-logger.js';

/** Everything the Slack listeners need, passed in once at wiring time (no singletons). */
export interface SlackListenerDeps {
  services: SlackServices;
  identity: IdentityResolver;
  permissions: PermissionChecker;
  /** Used for permission checks when a bead, convoy or agent belongs to no known repo. */
  defaultRepo?: string;
  logger: StructuredLogger;
  /** Forge links for feed lines and lists; defaults to none. */
  links?: Links;
}

import { parseOnBehalfOf } from '../town/ids.js';

/**
 * Who an issue or comment made by this app acts for. The Slack bot opens goal issues and
 * posts `/gt approve` on behalf of a person whose write access it has already checked; it
 * writes `<!-- gastown:on-behalf-of <login> -->` into the body. The marker counts only
 * when GitHub itself says the object was made by this very app (`performed_via_github_app`
 * carries our app id): anyone can type the marker, nobody else can make GitHub attest it.
 * The flow then checks that person's permission, as for anyone else.
 */

interface AppMadeObject {
  body?: string | null;
  performed_via_github_app?: { id?: number | null } | null;
}

export function delegatedActor(obj: AppMadeObject | null | undefined, appId: number | null | undefined): string | null {
  if (!obj || !appId || obj.performed_via_github_app?.id !== appId) return null;
  return parseOnBehalfOf(obj.body);
}

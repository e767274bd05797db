/**
 * Who an issue or comment made by this app acts for. The Slack bot opens goal issues and
 * posts `/gt approve` on behalf of a person whose write access it has already checked; it
 * writes `<!-- gastown:on-behalf-of <login> -->` into the body. The marker counts only
 * when GitHub itself says the object was made by this very app (`performed_via_github_app`
 * carries our app id): anyone can type the marker, nobody else can make GitHub attest it.
 * The flow then checks that person's permission, as for anyone else.
 */
export const ON_BEHALF_OF = 'gastown:on-behalf-of';

export function onBehalfOfMarker(login: string): string {
  return `<!-- ${ON_BEHALF_OF} ${login} -->`;
}

interface AppMadeObject {
  body?: string | null;
  performed_via_github_app?: { id?: number | null } | null;
}

export function delegatedActor(obj: AppMadeObject | null | undefined, appId: number | null | undefined): string | null {
  if (!obj || !appId || obj.performed_via_github_app?.id !== appId) return null;
  const m = new RegExp(`<!-- ${ON_BEHALF_OF} ([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})) -->`).exec(obj.body ?? '');
  return m?.[1] ?? null;
}

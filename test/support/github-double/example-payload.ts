/**
 * Real payload shapes from `@octokit/webhooks-examples` (payloads GitHub sent): the double
 * starts every webhook body and every REST object it renders from one of these, moved to
 * the double's host and repository, and then overwrites the fields it keeps state for.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let examples: { name: string; examples: Record<string, any>[] }[] | null = null;
const moved = new Map<string, Record<string, any>>();

/** The examples' own repository, host names and API base, rewritten to the double's. */
export interface Rehost {
  webUrl: string;
  apiUrl: string;
  owner: string;
  repo: string;
}

/** A deep copy of GitHub's example payload of `event` / `action` (the first one with that action). */
export function examplePayload(event: string, action: string | null, to: Rehost): Record<string, any> {
  const key = `${event}.${action}|${to.apiUrl}|${to.owner}/${to.repo}`;
  let payload = moved.get(key);
  if (!payload) moved.set(key, (payload = find(event, action, to)));
  return structuredClone(payload);
}

function find(event: string, action: string | null, to: Rehost): Record<string, any> {
  examples ??= JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'));
  const group = examples!.find((e) => e.name === event);
  const found = group?.examples.find((x) => action === null || x.action === action) ?? group?.examples[0];
  if (!found) throw new Error(`no example payload for ${event}.${action}`);
  return rehost(found, to);
}

/** The example moved to `to`: api.github.com → the double's API, github.com → its web host, Codertocat/Hello-World → its repo. */
export function rehost<T>(value: T, to: Rehost): T {
  const text = JSON.stringify(value)
    .replaceAll('https://api.github.com', to.apiUrl)
    .replaceAll('https://github.com', to.webUrl)
    .replaceAll('Codertocat/Hello-World', `${to.owner}/${to.repo}`);
  return JSON.parse(text) as T;
}

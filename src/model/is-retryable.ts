import { APIConnectionError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';

/**
 * Whether a failed Messages API call is worth trying again: rate limits (429), overload
 * (529), other server errors (5xx), request timeouts (408), lock timeouts (409) and
 * connection failures or client-side timeouts. Everything else (bad request, auth,
 * permission, a caller's abort, a bug in our code) fails the same way every time.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  // APIConnectionTimeoutError extends APIConnectionError.
  if (err instanceof APIConnectionError) return true;
  if (!(err instanceof APIError)) return false;
  // The API may say explicitly; the SDK's own retry logic honours the same header.
  const shouldRetry = err.headers?.get('x-should-retry');
  if (shouldRetry === 'true') return true;
  if (shouldRetry === 'false') return false;
  const status = err.status;
  if (status === undefined) return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

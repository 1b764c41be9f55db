/**
 * The local app's calls to the process that served it (app/server.ts),
 * with the token from the URL fragment (kept in memory only).
 * @module
 */

export const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
// The token stays in memory only: off the address bar and out of the browser's history.
if (TOKEN) history.replaceState(null, '', location.pathname + location.search);

/** A refusal of the local app, with the integrity problems it names. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
    readonly status = 0,
  ) {
    super(message);
  }
}

/** One JSON call to the local app. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: {
      'kluis-app-token': TOKEN,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'omit',
    cache: 'no-store',
  });
  const value = (await response.json().catch(() => ({}))) as {
    error?: { message?: string; problems?: string[] };
  };
  if (!response.ok)
    throw new ApiError(
      value.error?.message ?? `HTTP ${response.status}`,
      value.error?.problems ?? [],
      response.status,
    );
  return value as T;
}

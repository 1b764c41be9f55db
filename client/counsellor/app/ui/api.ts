/**
 * The local app's calls to the process that served it (app/server.ts),
 * with the token from the URL fragment (kept in memory only).
 * @module
 */

export const TOKEN = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
// The token stays in memory only: off the address bar and out of the browser's history.
if (TOKEN) history.replaceState(null, '', location.pathname + location.search);

/**
 * A refusal of the local app: its stable code (shown in the catalogue's words, ui.tsx
 * ErrorBox), the integrity problems it names, and the English message as technical detail.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly problems: readonly string[],
    readonly status = 0,
    readonly code = '',
  ) {
    super(message);
  }
}

/** The ApiError of a refused answer's JSON body. */
export function apiError(value: unknown, status: number): ApiError {
  const error = (value as { error?: { message?: unknown; problems?: unknown; code?: unknown } })
    ?.error;
  return new ApiError(
    typeof error?.message === 'string' ? error.message : `HTTP ${status}`,
    Array.isArray(error?.problems) ? error.problems.filter((p) => typeof p === 'string') : [],
    status,
    typeof error?.code === 'string' ? error.code : '',
  );
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
  const value = (await response.json().catch(() => ({}))) as unknown;
  if (!response.ok) throw apiError(value, response.status);
  return value as T;
}

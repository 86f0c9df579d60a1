// The REST API: tokens, automatic refresh on 401, error objects, and the progress stream.

const STORE = 'swarmcast.session';

export const session = {
  get() {
    try {
      return JSON.parse(localStorage.getItem(STORE)) || null;
    } catch {
      return null;
    }
  },
  set(data) {
    const current = this.get() || {};
    localStorage.setItem(STORE, JSON.stringify({ ...current, ...data }));
    window.dispatchEvent(new Event('session-changed'));
  },
  clear() {
    localStorage.removeItem(STORE);
    window.dispatchEvent(new Event('session-changed'));
  },
  get signedIn() {
    return Boolean(this.get()?.access_token);
  },
  get user() {
    return this.get()?.user || null;
  },
};

export class ApiError extends Error {
  constructor(status, body, headers) {
    const err = body?.error || {};
    super(err.message || `request failed (HTTP ${status})`);
    this.status = status;
    this.code = err.code || 'HTTP_ERROR';
    this.fields = err.fields || {};
    this.errorId = err.error_id || null;
    // A refused open-ended goal: yes/no questions the seed can answer instead (null otherwise).
    this.suggestions = Array.isArray(err.suggestions) ? err.suggestions : null;
    this.retryAfter = headers?.get('Retry-After') || null;
  }
}

async function toError(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  return new ApiError(res.status, body, res.headers);
}

let refreshing = null;

/** True when a JWT's `exp` is less than 30 s away (or unreadable): refresh before using it. */
function expiresSoon(token) {
  if (!token) return false;
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return payload.exp * 1000 < Date.now() + 30000;
  } catch {
    return true;
  }
}

/** Swaps the refresh token for a new pair; one refresh at a time however many calls got a 401. */
async function refresh() {
  const refreshToken = session.get()?.refresh_token;
  if (!refreshToken) return false;
  refreshing ??= (async () => {
    try {
      const res = await fetch('/api/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
      if (!res.ok) {
        if (res.status === 401) session.clear();
        return false;
      }
      const data = await res.json();
      session.set({ access_token: data.access_token, refresh_token: data.refresh_token, user: data.user });
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function headersFor(auth, json) {
  const headers = { Accept: 'application/json' };
  if (json) headers['Content-Type'] = 'application/json';
  const token = session.get()?.access_token;
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/**
 * Calls the API. Returns parsed JSON, text (for non-JSON answers), or null for 204.
 * `raw: true` returns the Response. Throws ApiError for an error status.
 */
export async function api(method, path, { body, auth = true, raw = false, signal } = {}) {
  const send = () =>
    fetch(path, {
      method,
      signal,
      headers: headersFor(auth, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  if (auth && expiresSoon(session.get()?.access_token)) await refresh();
  let res = await send();
  if (res.status === 401 && auth) {
    const err = await toError(res);
    // Only a rejected token is worth a refresh; a wrong password (also 401) is the user's to fix.
    if (!/token|sign in/i.test(err.message) || !(await refresh())) throw err;
    res = await send();
  }
  if (!res.ok) throw await toError(res);
  if (raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

function parseEvent(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const idx = line.indexOf(':');
    const field = idx === -1 ? line : line.slice(0, idx);
    const value = idx === -1 ? '' : line.slice(idx + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return null;
  try {
    return { event, data: JSON.parse(data.join('\n')) };
  } catch {
    return null;
  }
}

/**
 * Follows /api/jobs/{id}/progress (Server-Sent Events over fetch, so the bearer token can travel in
 * a header, which EventSource cannot do). Calls onEvent(name, data) for `job`, `end` and `error`.
 * Reconnects after a dropped connection until an `end`/`error` event or `signal` aborts.
 */
export async function followProgress(jobId, onEvent, signal) {
  let delay = 1000;
  while (!signal.aborted) {
    let finished = false;
    try {
      const res = await api('GET', `/api/jobs/${jobId}/progress`, { raw: true, signal });
      delay = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const parsed = parseEvent(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
          if (!parsed) continue;
          onEvent(parsed.event, parsed.data);
          if (parsed.event === 'end' || parsed.event === 'error') finished = true;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ApiError && err.status < 500) {
        onEvent('error', { error: { message: err.message, status: err.status } });
        return;
      }
    }
    if (finished) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

/** Downloads an authenticated API file (e.g. report.md) through a temporary blob URL. */
export async function download(path, filename) {
  const res = await api('GET', path, { raw: true });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

let configPromise = null;

/**
 * The public settings the UI adapts to (GET /api/config: search_provider, seed limits, samples),
 * asked once per page load. A failure is not kept: the next call asks again.
 */
export function appConfig() {
  configPromise ??= api('GET', '/api/config', { auth: false }).catch((err) => {
    configPromise = null;
    throw err;
  });
  return configPromise;
}

// Sending batches: fetch with HTTP Basic auth (the write key is the username), and
// navigator.sendBeacon for the page's last moments, which cannot set headers, so the write key
// travels in the body.

/** What became of one POST. */
export type Sent =
  | { ok: true; rejected: number }
  | { ok: false; retry: boolean; after: number }; // after: Retry-After in ms (0: none)

export async function post(url: string, writeKey: string, body: string): Promise<Sent> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + basic(writeKey) },
      body,
      credentials: 'omit',
    });
  } catch {
    return { ok: false, retry: true, after: 0 }; // network error, offline, CORS failure
  }
  if (res.ok) {
    let rejected = 0;
    try {
      const j = (await res.json()) as { rejected?: unknown[] };
      rejected = j.rejected?.length ?? 0;
    } catch {
      // a 2xx without our JSON still took the batch
    }
    return { ok: true, rejected };
  }
  const s = res.status;
  const retry = s === 408 || s === 429 || s >= 500;
  return { ok: false, retry, after: retry ? retryAfter(res.headers.get('Retry-After')) : 0 };
}

/** beacon hands body to the browser to send even after the page is gone; false if it refused. */
export function beacon(url: string, body: string): boolean {
  try {
    // A string body goes as text/plain, a CORS-safelisted type: no preflight, which a beacon
    // could not wait for. The collector reads the JSON whatever the Content-Type.
    return navigator.sendBeacon(url, body);
  } catch {
    return false;
  }
}

/** retryAfter reads a Retry-After header (seconds or an HTTP date) as milliseconds. */
export function retryAfter(h: string | null): number {
  if (!h) return 0;
  const s = Number(h);
  if (!isNaN(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return isNaN(t) ? 0 : Math.max(0, t - Date.now());
}

function basic(user: string): string {
  const bytes = new TextEncoder().encode(user + ':');
  let bin = '';
  bytes.forEach((b) => (bin += String.fromCharCode(b)));
  return btoa(bin);
}

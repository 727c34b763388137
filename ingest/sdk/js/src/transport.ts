// Sending batches: fetch with HTTP Basic auth (the write key is the username), the body
// gzipped when it is large and the browser can (CompressionStream), and navigator.sendBeacon for
// the page's last moments, which cannot set headers, so the write key travels in the body and the
// body goes uncompressed.

/** What became of one POST. */
export type Sent =
  | { ok: true; rejected: number }
  | { ok: false; retry: boolean; after: number }; // after: Retry-After in ms (0: none)

/**
 * post sends body to url. A body over gzipAbove bytes (UTF-8; a negative gzipAbove: never) goes
 * gzipped with Content-Encoding: gzip when the browser has CompressionStream; when it has not, or
 * compressing fails, the same body goes plain, and so it goes again at once if the server answers
 * a gzip body with 415. Each call compresses afresh: what is queued and retried is the plain JSON.
 */
export async function post(url: string, writeKey: string, body: string, gzipAbove = -1): Promise<Sent> {
  const raw = gzipAbove >= 0 ? new TextEncoder().encode(body) : null;
  const gz = raw && raw.length > gzipAbove ? await gzip(raw) : null;
  if (gz && raw && gz.length < raw.length) {
    const r = await send(url, writeKey, gz);
    if (r !== 415) return r;
  }
  return (await send(url, writeKey, body)) as Sent;
}

/** send POSTs one body, gzipped if it is bytes; 415 when the server could not take a gzip body. */
async function send(url: string, writeKey: string, data: string | Uint8Array): Promise<Sent | 415> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Authorization: 'Basic ' + basic(writeKey) };
  const gz = typeof data !== 'string';
  if (gz) headers['Content-Encoding'] = 'gzip';
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: data as BodyInit, credentials: 'omit' });
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
  if (gz && s === 415) return s;
  const retry = s === 408 || s === 429 || s >= 500;
  return { ok: false, retry, after: retry ? retryAfter(res.headers.get('Retry-After')) : 0 };
}

/** gzip compresses data with the browser's CompressionStream; null when there is none or it fails. */
export async function gzip(data: Uint8Array): Promise<Uint8Array | null> {
  if (typeof CompressionStream !== 'function') return null;
  try {
    const gz = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(gz).arrayBuffer());
  } catch {
    return null; // a broken or partial implementation: the caller sends the body plain
  }
}

/** beacon hands body to the browser to send even after the page is gone; false if it refused. */
export function beacon(url: string, body: string): boolean {
  try {
    // A string body goes as text/plain, a CORS-safelisted type: no preflight, which a beacon
    // could not wait for. The collector reads the JSON whatever the Content-Type. It goes
    // uncompressed: a beacon cannot carry Content-Encoding, the collector knows a gzip body only
    // by that header, and CompressionStream is asynchronous while the beacon must leave during
    // pagehide itself.
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

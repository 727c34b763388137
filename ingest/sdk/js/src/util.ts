// Small helpers shared by the SDK's modules.

/** A JSON object as sent in properties, traits and context. */
export type Props = Record<string, unknown>;

/** One Segment-spec event as queued and sent. */
export interface Ev {
  type: string;
  messageId: string;
  timestamp: string;
  anonymousId: string;
  userId?: string;
  previousId?: string;
  event?: string;
  name?: string;
  properties?: Props;
  traits?: Props;
  context: Props;
}

export const now = (): number => Date.now();

export const iso = (t: number = now()): string => new Date(t).toISOString();

/** uuid returns a random (version 4) UUID, from crypto.randomUUID where the page is a secure
 * context, else from crypto.getRandomValues, else from Math.random. */
export function uuid(): string {
  const c = typeof crypto !== 'undefined' ? crypto : undefined;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // not a secure context: fall through
    }
  }
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = (Math.random() * 256) | 0;
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** utf8Len is the length of s in UTF-8 bytes, which is what the collector's limits count. */
export const utf8Len = (s: string): number => new TextEncoder().encode(s).length;

/** parse reads JSON written by the SDK itself; anything unreadable is null. */
export function parse<T>(s: string | null): T | null {
  if (!s) return null;
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}

export const warn = (...a: unknown[]): void => {
  if (typeof console !== 'undefined') console.warn('citypulse:', ...a);
};

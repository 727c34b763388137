// What every event says about where it happened: page, campaign, session, device, library.

import type { Store } from './storage';
import { type Props, now, uuid } from './util';

declare const __VERSION__: string;

/** The SDK's name and version in context.library. */
export const LIBRARY = { name: 'citypulse-js', version: typeof __VERSION__ === 'string' ? __VERSION__ : 'dev' };

const UTM = ['source', 'medium', 'campaign', 'term', 'content'];

/** campaign reads the utm_* parameters of the page address in Segment's form (utm_campaign is name). */
export function campaign(search: string = location.search): Record<string, string> {
  const p = new URLSearchParams(search);
  const c: Record<string, string> = {};
  for (const k of UTM) {
    const v = p.get('utm_' + k);
    if (v) c[k === 'campaign' ? 'name' : k] = v;
  }
  return c;
}

/** pageInfo is the page part of context, also the default properties of a page call. */
export function pageInfo(referrer: string): Props {
  return {
    path: location.pathname,
    url: location.href,
    search: location.search,
    title: document.title,
    referrer,
  };
}

/** regionCode returns v when it is a 12-digit statistical division code. */
export const regionCode = (v: unknown): string | undefined =>
  (typeof v === 'string' || typeof v === 'number') && /^\d{12}$/.test(String(v)) ? String(v) : undefined;

/** serviceId returns v as a number when it is a whole number in 1…4294967295. */
export function serviceId(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 4294967295 ? n : undefined;
}

interface SessionState {
  id: string;
  t: number; // last activity, ms
  c: string; // campaign the session started with
}

/**
 * Sessions: a session ends after timeout ms without an event, and a new one starts when the page
 * address carries a campaign (utm_*) other than the session's. The state is shared by the tabs of
 * the origin (localStorage).
 */
export class Sessions {
  constructor(
    private s: Store,
    private timeout: number,
  ) {}

  id(c: Record<string, string>, t: number = now()): string {
    const key = Object.keys(c).length ? JSON.stringify(c) : '';
    let st = this.s.json<SessionState>('session');
    if (!st || t - st.t > this.timeout || (key && key !== st.c)) st = { id: uuid(), t, c: key };
    st.t = t;
    this.s.set('session', JSON.stringify(st));
    return st.id;
  }

  current(): string | null {
    const st = this.s.json<SessionState>('session');
    return st && now() - st.t <= this.timeout ? st.id : null;
  }

  reset(): void {
    this.s.remove('session');
  }
}

/** device is the part of the context that does not change during a page's life. */
export function device(): Props {
  const c: Props = {
    library: LIBRARY,
    userAgent: navigator.userAgent,
    locale: navigator.language,
  };
  try {
    c.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    // no Intl
  }
  if (typeof screen !== 'undefined') {
    c.screen = { width: screen.width, height: screen.height, density: window.devicePixelRatio || 1 };
  }
  return c;
}

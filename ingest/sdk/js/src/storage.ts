// Persistence: localStorage first; identity keys are also written to a first-party cookie, which
// is read when localStorage is unavailable or was cleared; memory when neither works.

import { parse } from './util';

const YEAR = 365 * 24 * 3600;

export class Store {
  private ls: Storage | null = null;
  private ss: Storage | null = null;
  private mem: Record<string, string> = {};

  constructor(
    private prefix: string,
    private cookieDomain = '',
  ) {
    this.ls = probe(() => window.localStorage);
    this.ss = probe(() => window.sessionStorage);
  }

  /** get returns the value of key, or null. */
  get(key: string, cookie = false): string | null {
    const k = this.prefix + key;
    if (this.ls) {
      try {
        const v = this.ls.getItem(k);
        if (v !== null) return v;
      } catch {
        // fall through to the cookie and memory
      }
    }
    if (cookie) {
      const v = readCookie(k);
      if (v !== null) return v;
    }
    return k in this.mem ? this.mem[k] : null;
  }

  /** set stores value under key; false when localStorage refused it (quota). */
  set(key: string, value: string, cookie = false): boolean {
    const k = this.prefix + key;
    this.mem[k] = value;
    if (cookie) writeCookie(k, value, YEAR, this.cookieDomain);
    if (!this.ls) return true;
    try {
      this.ls.setItem(k, value);
      return true;
    } catch {
      return false;
    }
  }

  remove(key: string, cookie = false): void {
    const k = this.prefix + key;
    delete this.mem[k];
    if (cookie) writeCookie(k, '', 0, this.cookieDomain);
    try {
      this.ls?.removeItem(k);
    } catch {
      // nothing to remove
    }
  }

  /** keys lists the SDK's keys in localStorage (without the prefix) that start with start. */
  keys(start: string): string[] {
    const out: string[] = [];
    const p = this.prefix + start;
    try {
      for (let i = 0; this.ls && i < this.ls.length; i++) {
        const k = this.ls.key(i);
        if (k && k.startsWith(p)) out.push(k.slice(this.prefix.length));
      }
    } catch {
      // no localStorage: nothing listed
    }
    return out;
  }

  /** tabId is an id per browser tab that survives reloads of the tab (sessionStorage). */
  tabId(make: () => string): string {
    const k = this.prefix + 'tab';
    let id: string | null = null;
    try {
      id = this.ss?.getItem(k) ?? null;
      if (!id) {
        id = make();
        this.ss?.setItem(k, id);
      }
    } catch {
      id = id || make();
    }
    return id;
  }

  json<T>(key: string): T | null {
    return parse<T>(this.get(key));
  }
}

function probe(get: () => Storage): Storage | null {
  try {
    const s = get();
    const k = '__citypulse_probe__';
    s.setItem(k, '1');
    s.removeItem(k);
    return s;
  } catch {
    return null;
  }
}

function readCookie(name: string): string | null {
  try {
    for (const part of document.cookie.split('; ')) {
      const i = part.indexOf('=');
      if (part.slice(0, i) === name) return decodeURIComponent(part.slice(i + 1));
    }
  } catch {
    // cookies disabled
  }
  return null;
}

function writeCookie(name: string, value: string, maxAge: number, domain: string): void {
  try {
    let c = `${name}=${encodeURIComponent(value)}; path=/; max-age=${maxAge}; SameSite=Lax`;
    if (domain) c += `; domain=${domain}`;
    if (location.protocol === 'https:') c += '; Secure';
    document.cookie = c;
  } catch {
    // cookies disabled
  }
}

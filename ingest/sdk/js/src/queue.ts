// The offline queue: events waiting to be sent, persisted in localStorage per browser tab so
// that a reload finds them, capped (oldest dropped and counted). Queues left behind by closed tabs
// are adopted by the next tab that looks, once they have not been touched for a while.

import type { Store } from './storage';
import { type Ev, now, utf8Len } from './util';

interface Saved {
  t: number; // last touched, ms
  e: Ev[];
}

const PREFIX = 'q.';

export class Queue {
  items: Ev[] = [];
  private key: string;

  /**
   * @param max   most events kept; beyond, the oldest are dropped
   * @param stale a queue of another tab untouched this long (ms) belongs to a closed tab
   */
  constructor(
    private s: Store,
    tab: string,
    private max: number,
    private stale: number,
  ) {
    this.key = PREFIX + tab;
    this.items = this.s.json<Saved>(this.key)?.e ?? [];
    this.adopt();
  }

  /** dropped counts the events this origin lost to the cap, storage quota or a refusing collector. */
  get dropped(): number {
    return Number(this.s.get('dropped')) || 0;
  }

  drop(n: number): void {
    if (n > 0) this.s.set('dropped', String(this.dropped + n));
  }

  push(ev: Ev): void {
    this.items.push(ev);
    this.save();
  }

  /** take returns the oldest events, at most n of them and at most maxBytes of JSON (at least one). */
  take(n: number, maxBytes: number): Ev[] {
    const out: Ev[] = [];
    let bytes = 0;
    for (const ev of this.items) {
      const size = utf8Len(JSON.stringify(ev)) + 1;
      if (out.length >= n || (out.length > 0 && bytes + size > maxBytes)) break;
      out.push(ev);
      bytes += size;
    }
    return out;
  }

  remove(ids: string[]): void {
    const gone = new Set(ids);
    this.items = this.items.filter((e) => !gone.has(e.messageId));
    this.save();
  }

  /** clear empties this tab's queue and those other tabs left behind. */
  clear(): void {
    this.items = [];
    for (const k of this.s.keys(PREFIX)) this.s.remove(k);
  }

  /** adopt takes over the queues of tabs that have been closed. */
  adopt(): void {
    let found = false;
    for (const k of this.s.keys(PREFIX)) {
      if (k === this.key) continue;
      const q = this.s.json<Saved>(k);
      if (q && now() - q.t < this.stale) continue;
      this.s.remove(k);
      if (q && q.e.length) {
        this.items.push(...q.e);
        found = true;
      }
    }
    if (!found) return;
    const seen = new Set<string>();
    this.items = this.items
      .filter((e) => !seen.has(e.messageId) && seen.add(e.messageId))
      .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    this.save();
  }

  /** save persists the queue, enforcing the cap; when storage is full it drops the oldest tenth. */
  save(): void {
    const over = this.items.length - this.max;
    if (over > 0) {
      this.items.splice(0, over);
      this.drop(over);
    }
    if (!this.items.length) {
      this.s.remove(this.key);
      return;
    }
    while (!this.s.set(this.key, JSON.stringify({ t: now(), e: this.items } satisfies Saved))) {
      const n = Math.ceil(this.items.length / 10);
      this.items.splice(0, n);
      this.drop(n);
      if (!this.items.length) {
        this.s.remove(this.key);
        return;
      }
    }
  }
}

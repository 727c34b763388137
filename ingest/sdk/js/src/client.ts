// The client: identity, capture, batching, retries and the page's lifecycle.

import { Sessions, campaign, device, pageInfo, regionCode, serviceId } from './context';
import { Queue } from './queue';
import { Store } from './storage';
import { beacon, post } from './transport';
import { type Ev, type Props, iso, now, utf8Len, uuid, warn } from './util';

/** Options of init; every field is optional and documents its default. */
export interface Options {
  /** context.app of every event, e.g. {name: '市民云', version: '5.2.0'}. Default: none. */
  app?: Props;
  /** Statistical division code (12 digits) put in context.region_code. Default: none. */
  regionCode?: string;
  /** Service id put in context.service_id. Default: none. */
  serviceId?: number;
  /** Send as soon as this many events are queued. Default 20. */
  flushAt?: number;
  /** Send what is queued at least this often, ms. Default 5000. */
  flushInterval?: number;
  /** Largest batch body, bytes (the collector's default limit is 512 KiB). Default 200000. */
  maxBatchBytes?: number;
  /** Gzip batch bodies (Content-Encoding: gzip) where the browser has CompressionStream. Default true. */
  compress?: boolean;
  /** Bodies over this many bytes (UTF-8 JSON) are gzipped when compress is on. Default 1024. */
  compressThreshold?: number;
  /** Most events kept in the offline queue; beyond, the oldest are dropped and counted. Default 1000. */
  maxQueue?: number;
  /** First retry delay, ms; it doubles per failure, with jitter. Default 1000. */
  retryBase?: number;
  /** Longest retry delay, ms. Default 60000. */
  retryMax?: number;
  /** Inactivity that ends a session, ms. Default 30 minutes. */
  sessionTimeout?: number;
  /** Send a page view on load and on every route change (history API, popstate, hashchange). Default true. */
  autoPage?: boolean;
  /** Track clicks on elements with a data-cp-track="event name" attribute. Default true. */
  clicks?: boolean;
  /** Collect nothing until setConsent(true). Default false. A stored choice wins over this. */
  requireConsent?: boolean;
  /** Prefix of the SDK's localStorage keys and cookies. Default 'citypulse.'. */
  storagePrefix?: string;
  /** Domain of the identity cookies, e.g. '.city.gov.cn' to share ids across subdomains. Default: the page's host. */
  cookieDomain?: string;
}

/** Counters for monitoring the SDK from the page. */
export interface Stats {
  queued: number;
  dropped: number;
  sent: number;
  rejected: number;
  failures: number;
}

const DEFAULTS = {
  flushAt: 20,
  flushInterval: 5000,
  maxBatchBytes: 200000,
  compress: true,
  compressThreshold: 1024,
  maxQueue: 1000,
  retryBase: 1000,
  retryMax: 60000,
  sessionTimeout: 30 * 60 * 1000,
  autoPage: true,
  clicks: true,
  requireConsent: false,
  storagePrefix: 'citypulse.',
  cookieDomain: '',
};

/** The collector refuses events bigger than this (ingest/event.MaxEventBytes). */
const MAX_EVENT_BYTES = 32 << 10;
/** Calls made before init that init replays; more are dropped with a warning. */
const MAX_EARLY = 100;
/** Browsers give all keepalive requests of a page 64 KiB together. */
const BEACON_BYTES = 60000;

type Config = typeof DEFAULTS & Options;

export class Client {
  private o: Config = DEFAULTS;
  private url = '';
  private key = '';
  private s: Store | null = null;
  private q: Queue | null = null;
  private sessions: Sessions | null = null;
  private dev: Props = {};
  private consent: boolean | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> | null = null;
  private inflight: string[] = [];
  private failures = 0;
  private retryAt = 0;
  private referrer = '';
  private lastUrl = '';
  private counts = { sent: 0, rejected: 0 };
  /** Calls made before init, replayed by init in order, each at the time it was made. */
  private early: Array<{ t: number; call: () => void }> = [];
  private at: number | null = null;

  /** init starts the SDK: events go to endpoint + '/v1/batch' with writeKey. Later calls are ignored. */
  init(writeKey: string, endpoint: string, options: Options = {}): void {
    if (this.s) return warn('init called twice; ignored');
    if (!writeKey || !endpoint) throw new Error('citypulse.init: writeKey and endpoint are required');
    const o: Config = { ...DEFAULTS, ...options };
    if (o.regionCode != null && !regionCode(o.regionCode)) warn('regionCode must be 12 digits; ignored:', o.regionCode);
    if (o.serviceId != null && !serviceId(o.serviceId)) warn('serviceId must be a whole number from 1; ignored:', o.serviceId);
    this.o = o;
    this.key = writeKey;
    this.url = endpoint.replace(/\/+$/, '') + '/v1/batch';
    const s = (this.s = new Store(o.storagePrefix, o.cookieDomain));
    this.sessions = new Sessions(s, o.sessionTimeout);
    this.q = new Queue(s, s.tabId(uuid), o.maxQueue, 2 * o.retryMax + o.flushInterval + 60000);
    this.dev = device();
    const stored = s.get('consent');
    if (this.consent !== null) s.set('consent', this.consent ? '1' : '0'); // chosen before init
    else this.consent = stored ? stored === '1' : !o.requireConsent; // a default is not a choice
    this.applyConsent();
    this.referrer = document.referrer;

    addEventListener('pagehide', () => this.beacon());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.beacon();
    });
    addEventListener('storage', (e) => {
      if (e.key === o.storagePrefix + 'consent' && e.newValue) {
        this.consent = e.newValue === '1'; // another tab chose
        this.applyConsent();
      }
    });
    addEventListener('online', () => {
      this.q?.adopt();
      void this.flush();
    });
    if (o.autoPage) {
      this.lastUrl = location.href;
      this.page();
      const route = (): void => void setTimeout(() => this.route(), 0); // after the app set the title
      for (const m of ['pushState', 'replaceState'] as const) {
        const orig = history[m];
        history[m] = function (this: History, ...a: Parameters<History['pushState']>) {
          const r = orig.apply(this, a);
          route();
          return r;
        };
      }
      addEventListener('popstate', route);
      addEventListener('hashchange', route);
    }
    if (o.clicks) document.addEventListener('click', (e) => this.click(e), true);
    const early = this.early;
    this.early = [];
    for (const e of early) {
      this.at = e.t;
      try {
        e.call();
      } finally {
        this.at = null;
      }
    }
    this.schedule();
  }

  /** defer keeps a call made before init for init to replay; it reports whether it did. */
  private defer(call: () => void): boolean {
    if (this.s) return false;
    if (this.early.length < MAX_EARLY) this.early.push({ t: now(), call });
    else warn('more than ' + MAX_EARLY + ' calls before init; dropped');
    return true;
  }

  /** track records that the user did something. */
  track(event: string, properties?: Props): void {
    if (!event) return warn('track needs an event name');
    if (this.defer(() => this.track(event, properties))) return;
    this.capture({ type: 'track', event, properties: { ...properties } });
  }

  /** page records a page view; properties default to the page's path, url, search, title and referrer. */
  page(name?: string, properties?: Props): void {
    if (this.defer(() => this.page(name, properties))) return;
    const ev: Partial<Ev> = { type: 'page', properties: { ...pageInfo(this.referrer), ...properties } };
    if (name) ev.name = name;
    this.capture(ev);
  }

  /**
   * identify ties what follows to userId and records traits. The first identify after an
   * anonymous stretch sends an alias event (previousId = the anonymous id) so that the history
   * before login joins the user. A different userId than the current one means another person:
   * the SDK resets first (a fresh anonymous id and session).
   */
  identify(userId?: string | number | null, traits?: Props): void {
    if (this.defer(() => this.identify(userId, traits))) return;
    if (!this.on()) return;
    const s = this.s!;
    const prev = this.userId();
    const uid = userId == null || userId === '' ? prev : String(userId);
    if (uid && uid !== prev) {
      if (!prev) this.alias(uid);
      else {
        this.reset(); // another person on this device: no stitching to the previous one
        s.set('userId', uid, true);
      }
    }
    const all = { ...s.json<Props>('traits'), ...traits };
    s.set('traits', JSON.stringify(all));
    this.capture({ type: 'identify', traits: all });
  }

  /** alias records that userId is the same person as previousId (default: the current user or anonymous id) and switches to userId. */
  alias(userId: string | number, previousId?: string | number): void {
    if (this.defer(() => this.alias(userId, previousId))) return;
    if (!this.on() || userId == null || userId === '') return;
    const prev = previousId != null ? String(previousId) : this.userId() || this.anonymousId();
    this.s!.set('userId', String(userId), true);
    this.capture({ type: 'alias', previousId: prev });
  }

  /** reset forgets the user (at logout): a new anonymous id, no user id or traits, a new session. */
  reset(): void {
    const s = this.s;
    if (!s) return;
    s.remove('userId', true);
    s.remove('traits');
    s.remove('anonymousId', true);
    this.sessions!.reset();
  }

  /** flush sends everything queued now, retry delay or not; it resolves when done or failed. */
  flush(): Promise<void> {
    this.retryAt = 0;
    return this.send();
  }

  /** setConsent(false) stops collection and clears the queue; setConsent(true) resumes. The choice is stored. */
  setConsent(on: boolean): void {
    this.consent = !!on;
    if (!this.s) return; // stored and applied at init
    this.s.set('consent', on ? '1' : '0');
    this.applyConsent();
  }

  private applyConsent(): void {
    if (!this.consent) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.q!.clear();
    } else this.schedule();
  }

  anonymousId(): string {
    const s = this.s;
    if (!s) return '';
    let id = s.get('anonymousId', true);
    if (!id) {
      id = uuid();
      s.set('anonymousId', id, true);
    }
    return id;
  }

  userId(): string | null {
    return this.s?.get('userId', true) ?? null;
  }

  sessionId(): string | null {
    return this.sessions?.current() ?? null;
  }

  stats(): Stats {
    const q = this.q;
    return { queued: q ? q.items.length : 0, dropped: q ? q.dropped : 0, ...this.counts, failures: this.failures };
  }

  private on(): boolean {
    if (!this.s) warn('call init first');
    return !!this.s && this.consent === true;
  }

  private capture(fields: Partial<Ev>): void {
    if (!this.on()) return;
    const t = this.at ?? now();
    const context: Props = { ...this.dev, page: pageInfo(this.referrer) };
    const app = this.o.app;
    if (app) context.app = app;
    const c = campaign();
    if (Object.keys(c).length) context.campaign = c;
    context.session_id = this.sessions!.id(c, t);
    const p = fields.properties || {};
    const rc = regionCode(p.region_code) ?? regionCode(this.o.regionCode);
    if (rc) context.region_code = rc;
    const sid = serviceId(p.service_id) ?? serviceId(this.o.serviceId);
    if (sid) context.service_id = sid;
    const ev = { messageId: uuid(), timestamp: iso(t), anonymousId: this.anonymousId(), ...fields, context } as Ev;
    const uid = this.userId();
    if (uid) ev.userId = uid;
    if (utf8Len(JSON.stringify(ev)) > MAX_EVENT_BYTES) {
      this.q!.drop(1);
      return warn(`event ${ev.event || ev.type} is over ${MAX_EVENT_BYTES} bytes; dropped`);
    }
    this.q!.push(ev);
    if (this.q!.items.length >= this.o.flushAt && !this.failures) void this.send();
    else this.schedule();
  }

  private route(): void {
    if (location.href === this.lastUrl) return;
    this.referrer = this.lastUrl;
    this.lastUrl = location.href;
    this.page();
  }

  private click(e: Event): void {
    const el = e.target instanceof Element ? e.target.closest('[data-cp-track]') : null;
    const name = el?.getAttribute('data-cp-track');
    if (!el || !name) return;
    const props: Props = {};
    for (const a of Array.from(el.attributes)) {
      if (a.name.startsWith('data-cp-') && a.name !== 'data-cp-track') props[a.name.slice(8).replace(/-/g, '_')] = a.value;
    }
    this.track(name, props);
  }

  /** schedule arms the timer: the flush interval, or the retry delay after a failure. */
  private schedule(): void {
    if (this.timer !== undefined || this.sending || !this.q?.items.length || !this.consent) return;
    const wait = this.failures ? Math.max(0, this.retryAt - now()) : this.o.flushInterval;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, wait);
  }

  private send(): Promise<void> {
    if (this.sending) return this.sending;
    clearTimeout(this.timer);
    this.timer = undefined;
    const done = (): void => {
      this.sending = null;
      this.schedule();
    };
    const p = this.drain().then(done, done);
    this.sending = p;
    return p;
  }

  /** drain sends batches until the queue is empty or a batch fails. */
  private async drain(): Promise<void> {
    const q = this.q;
    while (q && this.consent) {
      const batch = q.take(this.o.flushAt, this.o.maxBatchBytes);
      if (!batch.length) return;
      const ids = batch.map((e) => e.messageId);
      this.inflight = ids;
      const gzipAbove = this.o.compress ? Math.max(0, this.o.compressThreshold) : -1;
      const r = await post(this.url, this.key, JSON.stringify({ batch, sentAt: iso() }), gzipAbove);
      this.inflight = [];
      if (r.ok) {
        this.failures = 0;
        this.counts.sent += batch.length - r.rejected;
        this.counts.rejected += r.rejected;
        q.remove(ids);
        continue;
      }
      if (!r.retry) {
        // The collector refused the request itself (bad key, bad body): sending it again cannot help.
        warn('the collector refused a batch; dropped', batch.length);
        q.drop(batch.length);
        q.remove(ids);
        continue;
      }
      this.failures++;
      const backoff = Math.min(this.o.retryMax, this.o.retryBase * 2 ** (this.failures - 1));
      this.retryAt = now() + Math.max(r.after, backoff * (0.5 + Math.random() / 2));
      q.save(); // touch: this tab's queue is alive
      return;
    }
  }

  /**
   * beacon hands the queue to navigator.sendBeacon as the page is hidden or left. Not while
   * offline or while the collector is failing: then the queue stays in localStorage for the next
   * load, rather than go into a beacon that would be lost.
   */
  private beacon(): void {
    const q = this.q;
    if (!q || !this.consent || this.failures || navigator.onLine === false || !navigator.sendBeacon) return;
    const pending = q.items.filter((e) => !this.inflight.includes(e.messageId));
    let batch: Ev[] = [];
    let bytes = 0;
    const go = (): boolean => {
      if (!batch.length) return true;
      const body = JSON.stringify({ batch, sentAt: iso(), writeKey: this.key });
      if (!beacon(this.url, body)) return false;
      q.remove(batch.map((e) => e.messageId));
      this.counts.sent += batch.length;
      batch = [];
      bytes = 0;
      return true;
    };
    for (const ev of pending) {
      const size = utf8Len(JSON.stringify(ev)) + 1;
      if (size > BEACON_BYTES - 200) continue; // too big for a beacon: left for the next load
      if (bytes + size > BEACON_BYTES - 200 && !go()) return;
      batch.push(ev);
      bytes += size;
    }
    go();
  }
}

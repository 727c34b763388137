// The CityPulse tracking SDK for H5 and web pages. The ESM build exports these functions (bound
// to one client per page) and the Client class; the IIFE build puts the same on window.citypulse.

import { Client } from './client';

export { Client };
export type { Options, Stats } from './client';
export type { Ev as Event, Props } from './util';

const c = new Client();

export const init = c.init.bind(c);
export const track = c.track.bind(c);
export const page = c.page.bind(c);
export const identify = c.identify.bind(c);
export const alias = c.alias.bind(c);
export const reset = c.reset.bind(c);
export const flush = c.flush.bind(c);
export const setConsent = c.setConsent.bind(c);
export const anonymousId = c.anonymousId.bind(c);
export const userId = c.userId.bind(c);
export const sessionId = c.sessionId.bind(c);
export const stats = c.stats.bind(c);

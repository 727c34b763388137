// Package useragent reads a User-Agent string into the operating system, the browser (or the app
// webview: WeChat, Alipay and their mini-programs, DingTalk) and the device type (mobile, tablet,
// desktop, bot) the collector stamps on events. It is a small table of rules for the clients the
// city's apps actually see, not a complete database: what it does not recognise it leaves empty.
// It does no I/O, keeps no state (Cache, which a caller owns, remembers results) and never returns text copied from the input other than version
// numbers (digits and dots only), so its output is safe to store and to use as a metric label.
package useragent

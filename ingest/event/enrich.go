package event

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"unicode/utf8"

	"github.com/citypulse/citypulse/ingest/useragent"
)

// Origin is what the collector knows of a request beyond its body.
type Origin struct {
	// IP is the client's address, already truncated with TruncateIP; "" when unknown.
	IP string
	// UserAgent is the request's User-Agent header; an event's own context.userAgent wins.
	UserAgent string
}

// Server is context.server: what the collector knows or derived of an event, as opposed to what
// the client claims elsewhere in the context. A client-sent context.server is replaced. Empty
// fields are left out; an event with nothing to say gets no context.server.
type Server struct {
	// IP is the client's address truncated to its /24 (IPv4) or /48 (IPv6) network. The full
	// address is never stored.
	IP string `json:"ip,omitempty"`
	// AppVersion is context.app.version normalised: up to four dot-separated numbers, without
	// a leading "v" and leading zeros ("v3.02.1 (build 7)" is "3.2.1"); "" when it has none.
	AppVersion string `json:"appVersion,omitempty"`
	// OS, Browser and Device are parsed from context.userAgent, else the User-Agent header
	// (see ingest/useragent).
	OS      useragent.Named `json:"os,omitzero"`
	Browser useragent.Named `json:"browser,omitzero"`
	Device  Device          `json:"device,omitzero"`
}

// Device is context.server.device.
type Device struct {
	Type string `json:"type,omitempty"` // mobile, tablet, desktop or bot
}

// maxAppVersionParts caps the numbers kept of an app version.
const maxAppVersionParts = 4

// TruncateIP parses an IP address and returns its /24 (IPv4, including IPv4-mapped IPv6) or /48
// (IPv6) network address, e.g. "203.0.113.0" or "2001:db8:1::". It reports false for a string
// that is not an address.
func TruncateIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return TruncateAddr(a), true
}

// TruncateAddr is TruncateIP on a parsed address; the zero Addr gives "".
func TruncateAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	a = a.Unmap().WithZone("")
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, _ := a.Prefix(bits) // bits is within the address length
	return p.Addr().String()
}

// scrub makes a client-sent context safe to store: context.ip is truncated (dropped when it is
// not an address) and context.server, which only the collector writes, is dropped. It reports
// whether it changed ctx.
func scrub(ctx map[string]json.RawMessage) bool {
	changed := false
	if v, ok := ctx["ip"]; ok {
		s, isStr := jsonString(v)
		if t, ok := TruncateIP(s); isStr && ok {
			ctx["ip"] = json.RawMessage(strconv.Quote(t)) // digits, dots, colons, hex: plain ASCII
		} else {
			delete(ctx, "ip")
		}
		changed = true
	}
	if _, ok := ctx["server"]; ok {
		delete(ctx, "server")
		changed = true
	}
	return changed
}

// scrubRaw returns the event object raw with its context scrubbed (see scrub), re-encoded;
// raw itself when it cannot be read as an object with an object context.
func scrubRaw(raw json.RawMessage) json.RawMessage {
	m, err := objectMembers(raw)
	if err != nil || JSONKind(m["context"]) != "an object" {
		return raw
	}
	ctx, err := objectMembers(m["context"])
	if err != nil || !scrub(ctx) {
		return raw
	}
	if m["context"], err = json.Marshal(ctx); err != nil {
		return raw
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return out
}

// server encodes context.server for an event whose (merged) context holds userAgent and app
// (nil when absent), or returns nil when there is nothing to say.
func (p *parser) server(userAgent, version json.RawMessage) []byte {
	ua := p.origin.UserAgent
	if s, ok := p.strs.str(memoUserAgent, userAgent, nil); ok && s != "" {
		ua = s
	}
	m := &p.srvMemo
	if !bytes.Equal(version, m.versionRaw) || (version == nil) != (m.versionRaw == nil) {
		m.versionRaw, m.version = version, versionString(version)
	}
	s := Server{IP: p.origin.IP, AppVersion: m.version}
	agent := p.ua.parse(ua)
	s.OS, s.Browser, s.Device.Type = agent.OS, agent.Browser, agent.Device
	if s == (Server{}) {
		return nil
	}
	// The events of a request nearly always share all of it: encode it once.
	if m.enc != nil && m.s == s {
		return m.enc
	}
	m.s, m.enc = s, appendServer(make([]byte, 0, 160), &s)
	return m.enc
}

// serverMemo is the last context.server encoded (never modified once encoded) and the last app
// version normalised.
type serverMemo struct {
	s          Server
	enc        []byte
	versionRaw json.RawMessage
	version    string
}

// appendServer is json.Marshal(s), without reflection: it runs for every event.
func appendServer(b []byte, s *Server) []byte {
	b = append(b, '{')
	sep := false
	if s.IP != "" {
		b = appendField(b, &sep, "ip")
		b = appendString(b, s.IP)
	}
	if s.AppVersion != "" {
		b = appendField(b, &sep, "appVersion")
		b = appendString(b, s.AppVersion)
	}
	if s.OS != (useragent.Named{}) {
		b = appendField(b, &sep, "os")
		b = appendNamed(b, s.OS)
	}
	if s.Browser != (useragent.Named{}) {
		b = appendField(b, &sep, "browser")
		b = appendNamed(b, s.Browser)
	}
	if s.Device.Type != "" {
		b = appendField(b, &sep, "device")
		b = append(b, `{"type":`...)
		b = appendString(b, s.Device.Type)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendField appends a member name, after a comma when *sep.
func appendField(b []byte, sep *bool, name string) []byte {
	if *sep {
		b = append(b, ',')
	}
	*sep = true
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

func appendNamed(b []byte, v useragent.Named) []byte {
	b = append(b, '{')
	sep := false
	if v.Name != "" {
		b = appendField(b, &sep, "name")
		b = appendString(b, v.Name)
	}
	if v.Version != "" {
		b = appendField(b, &sep, "version")
		b = appendString(b, v.Version)
	}
	return append(b, '}')
}

// plainByte marks the bytes a JSON string holds as they are: printable ASCII but '"' and '\\'.
var plainByte = func() (t [256]byte) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		if c != '"' && c != '\\' {
			t[c] = 1
		}
	}
	return t
}()

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	i := 0
	for ; i+8 <= len(s); i += 8 { // eight bytes at a time, as fscan.str reads them
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if hasZero(x^(lsb*'"'))|hasZero(x^(lsb*'\\'))|(x-lsb*0x20)&^x&msb|x&msb != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if plainByte[s[i]] == 0 {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// spliceServer adds "server":server to the JSON object ctx (nil: no context) without decoding
// it, in memory from grab. ctx must not hold a "server" key already.
func spliceServer(grab func(int) []byte, ctx json.RawMessage, server []byte) json.RawMessage {
	ctx = bytes.TrimSpace(ctx)
	if len(ctx) < 2 {
		out := grab(len(server) + 12)
		out = append(out, `{"server":`...)
		out = append(out, server...)
		return append(out, '}')
	}
	inner := bytes.TrimSpace(ctx[1 : len(ctx)-1])
	out := grab(len(ctx) + len(server) + 12)
	out = append(out, ctx[:len(ctx)-1]...)
	if len(inner) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"server":`...)
	out = append(out, server...)
	return append(out, '}')
}

// appVersion reads the version member of a context.app object.
func appVersion(app json.RawMessage) json.RawMessage {
	if JSONKind(app) != "an object" {
		return nil
	}
	m, err := objectMembers(app)
	if err != nil {
		return nil
	}
	return m["version"]
}

// versionString normalises an app version given as a string or a number.
func versionString(v json.RawMessage) string {
	var s string
	switch JSONKind(v) {
	case "a string":
		s, _ = jsonString(v)
	case "a number":
		s = string(bytes.TrimSpace(v))
	default:
		return ""
	}
	return NormaliseVersion(s)
}

// NormaliseVersion reads a version number at the start of s (after spaces and a "v"): up to four
// dot-separated numbers, each without leading zeros; "" when s does not start with one.
func NormaliseVersion(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && (s[i] == 'v' || s[i] == 'V') {
		i++
	}
	var out []byte
	for part := 0; part < maxAppVersionParts; part++ {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			break
		}
		num := s[start:i]
		for len(num) > 1 && num[0] == '0' {
			num = num[1:]
		}
		if len(num) > 9 {
			break // not a version number any more
		}
		if part > 0 {
			out = append(out, '.')
		}
		out = append(out, num...)
		if i+1 >= len(s) || s[i] != '.' || s[i+1] < '0' || s[i+1] > '9' {
			break
		}
		i++
	}
	return string(out)
}

// uaMemo remembers the last User-Agent parsed: the events of one request nearly always share it.
type uaMemo struct {
	ua    string
	agent useragent.Agent
	set   bool
	cache *useragent.Cache // nil: parse each new one
}

func (m *uaMemo) parse(ua string) useragent.Agent {
	if ua == "" {
		return useragent.Agent{}
	}
	if !m.set || m.ua != ua {
		m.ua, m.set = ua, true
		if m.cache != nil {
			m.agent = m.cache.Parse(ua)
		} else {
			m.agent = useragent.Parse(ua)
		}
	}
	return m.agent
}

package useragent

import "strings"

// Device types.
const (
	Mobile  = "mobile"
	Tablet  = "tablet"
	Desktop = "desktop"
	Bot     = "bot"
)

// MaxLen is how much of a User-Agent string is read; the rest is ignored.
const MaxLen = 512

// maxVersionLen caps a version number.
const maxVersionLen = 20

// Named is an operating system or a browser: a name from this package's fixed set and a version
// made of digits and dots. Either may be empty.
type Named struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// Agent is what a User-Agent string says of its client.
type Agent struct {
	OS      Named  `json:"os,omitzero"`
	Browser Named  `json:"browser,omitzero"` // for a bot, the bot's name
	Device  string `json:"device,omitempty"` // Mobile, Tablet, Desktop, Bot or "" when unknown
}

// IsZero reports whether nothing was recognised.
func (a Agent) IsZero() bool { return a == Agent{} }

// Parse reads ua (only its first MaxLen bytes).
func Parse(ua string) Agent {
	if len(ua) > MaxLen {
		ua = ua[:MaxLen]
	}
	if strings.TrimSpace(ua) == "" {
		return Agent{}
	}
	if name, ok := bot(ua); ok {
		return Agent{Browser: Named{Name: name, Version: versionAfter(ua, name+"/")}, Device: Bot, OS: os(ua)}
	}
	a := Agent{OS: os(ua), Browser: browser(ua)}
	a.Device = device(ua, a.OS.Name)
	return a
}

// bots are matched case-insensitively, in order; the first hit names the bot. A generic
// "bot"/"spider"/"crawler" word is caught last.
var bots = []struct{ token, name string }{
	{"googlebot", "Googlebot"},
	{"bingbot", "Bingbot"},
	{"baiduspider", "Baiduspider"},
	{"yisouspider", "YisouSpider"},
	{"sogou web spider", "Sogou Spider"},
	{"360spider", "360Spider"},
	{"bytespider", "Bytespider"},
	{"petalbot", "PetalBot"},
	{"yandexbot", "YandexBot"},
	{"applebot", "Applebot"},
	{"duckduckbot", "DuckDuckBot"},
	{"facebookexternalhit", "FacebookBot"},
	{"headlesschrome", "HeadlessChrome"},
	{"phantomjs", "PhantomJS"},
	{"spider", "Spider"},
	{"crawler", "Crawler"},
	{"bot/", "Bot"},
	{"bot;", "Bot"},
	{"bot)", "Bot"},
	{"bot ", "Bot"},
}

// bot reports whether ua is a crawler or a headless browser. HTTP libraries (curl, okhttp,
// Go-http-client) are not bots: server-side SDKs and native apps send events through them on
// behalf of real people, so they give an empty Agent instead.
func bot(ua string) (string, bool) {
	lower := strings.ToLower(ua)
	for _, b := range bots {
		if strings.Contains(lower, b.token) {
			return b.name, true
		}
	}
	return "", false
}

// os finds the operating system. HarmonyOS comes before Android (its older UAs also say
// Android), iOS before macOS (iPads in desktop mode aside, which nothing can tell apart).
func os(ua string) Named {
	switch {
	case contains(ua, "OpenHarmony"):
		return Named{"HarmonyOS", versionAfter(ua, "OpenHarmony ")}
	case contains(ua, "HarmonyOS"):
		return Named{"HarmonyOS", versionAfter(ua, "HarmonyOS ")}
	case contains(ua, "iPhone") || contains(ua, "iPad") || contains(ua, "iPod"):
		v := versionAfter(ua, "iPhone OS ")
		if v == "" {
			v = versionAfter(ua, "CPU OS ")
		}
		return Named{"iOS", v}
	case contains(ua, "Android"):
		return Named{"Android", versionAfter(ua, "Android ")}
	case contains(ua, "Dalvik/"):
		return Named{"Android", ""}
	case contains(ua, "Windows Phone"):
		return Named{"Windows Phone", versionAfter(ua, "Windows Phone ")}
	case contains(ua, "Windows"):
		return Named{"Windows", windowsVersion(versionAfter(ua, "Windows NT "))}
	case contains(ua, "Mac OS X"):
		return Named{"macOS", versionAfter(ua, "Mac OS X ")}
	case contains(ua, "CFNetwork/") && contains(ua, "Darwin/"):
		return Named{"iOS", ""}
	case contains(ua, "CrOS"):
		return Named{"Chrome OS", ""}
	case contains(ua, "Linux") || contains(ua, "X11"):
		return Named{"Linux", ""}
	}
	return Named{}
}

// windowsVersion maps an NT kernel version to the marketing name (Windows 11 still says 10.0).
func windowsVersion(nt string) string {
	switch nt {
	case "10.0":
		return "10"
	case "6.3":
		return "8.1"
	case "6.2":
		return "8"
	case "6.1":
		return "7"
	case "6.0":
		return "Vista"
	case "5.1", "5.2":
		return "XP"
	}
	return nt
}

// browsers are tried in order: app webviews first (they also say Chrome or Safari), then
// browsers built on Chromium (which also say Chrome), then Chrome, then Safari. token is followed
// by the version.
var browsers = []struct{ token, name string }{
	{"MicroMessenger/", "WeChat"},
	{"wxwork/", "WeCom"},
	{"AlipayClient/", "Alipay"},
	{"DingTalk/", "DingTalk"},
	{"baiduboxapp/", "Baidu App"},
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"Edge/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"UCBrowser/", "UC Browser"},
	{"MQQBrowser/", "QQ Browser"},
	{"QQBrowser/", "QQ Browser"},
	{"HuaweiBrowser/", "Huawei Browser"},
	{"MiuiBrowser/", "MIUI Browser"},
	{"ArkWeb/", "ArkWeb"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"HeadlessChrome/", "HeadlessChrome"},
	{"Chrome/", "Chrome"},
}

// browser finds the browser or app webview. A WeChat or Alipay webview that says "miniProgram"
// is a mini-program page.
func browser(ua string) Named {
	for _, b := range browsers {
		i := strings.Index(ua, b.token)
		if i < 0 {
			continue
		}
		name := b.name
		switch {
		case name == "WeChat" && containsFold(ua, "miniprogram"):
			name = "WeChat Mini Program"
		case name == "Alipay" && containsFold(ua, "miniprogram"):
			name = "Alipay Mini Program"
		case name == "Chrome" && contains(ua, "; wv)"):
			name = "Android WebView"
		}
		return Named{name, version(ua[i+len(b.token):])}
	}
	if contains(ua, "Safari/") || contains(ua, "AppleWebKit/") && (contains(ua, "iPhone") || contains(ua, "iPad")) {
		if v := versionAfter(ua, "Version/"); v != "" {
			return Named{"Safari", v}
		}
		if contains(ua, "iPhone") || contains(ua, "iPad") {
			return Named{"iOS WebView", ""}
		}
		return Named{"Safari", ""}
	}
	if contains(ua, "Trident/") || contains(ua, "MSIE ") {
		v := versionAfter(ua, "MSIE ")
		if v == "" {
			v = versionAfter(ua, "rv:")
		}
		return Named{"Internet Explorer", v}
	}
	return Named{}
}

// device classifies the hardware from the UA and the OS already found.
func device(ua, osName string) string {
	switch osName {
	case "iOS":
		if contains(ua, "iPad") {
			return Tablet
		}
		return Mobile
	case "Android":
		if contains(ua, "Mobile") || contains(ua, "Dalvik/") && !containsFold(ua, "tablet") {
			return Mobile
		}
		return Tablet
	case "HarmonyOS":
		if contains(ua, "Tablet") || contains(ua, "Pad;") {
			return Tablet
		}
		return Mobile
	case "Windows Phone":
		return Mobile
	case "Windows", "macOS", "Linux", "Chrome OS":
		return Desktop
	}
	if contains(ua, "Mobile") {
		return Mobile
	}
	return ""
}

// versionAfter returns the version that follows the first occurrence of prefix.
func versionAfter(ua, prefix string) string {
	i := strings.Index(ua, prefix)
	if i < 0 {
		return ""
	}
	return version(ua[i+len(prefix):])
}

// version reads a version number at the start of s: digits separated by dots or underscores
// (iOS writes 17_4_1), returned with dots, at most maxVersionLen long, without a trailing dot.
func version(s string) string {
	var b []byte
	for i := 0; i < len(s) && len(b) < maxVersionLen; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case (c == '.' || c == '_') && len(b) > 0 && b[len(b)-1] != '.':
			b = append(b, '.')
		default:
			i = len(s)
		}
	}
	for len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// containsFold is an ASCII case-insensitive Contains for a lower-case sub.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

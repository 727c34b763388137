package useragent

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// cases are real User-Agent strings of the clients the city's apps see.
var cases = []struct {
	name, ua string
	want     Agent
}{
	{"wechat mini-program iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f) NetType/WIFI Language/zh_CN miniProgram/wx1234567890abcdef",
		Agent{Named{"iOS", "16.6"}, Named{"WeChat Mini Program", "8.0.42"}, Mobile}},
	{"wechat mini-program android",
		"Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5223 MMWEBSDK/20230701 MMWEBID/2222 MicroMessenger/8.0.40.2420(0x28002837) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64 MiniProgramEnv/android",
		Agent{Named{"Android", "13"}, Named{"WeChat Mini Program", "8.0.40.2420"}, Mobile}},
	{"wechat in-app browser",
		"Mozilla/5.0 (Linux; Android 12; PEHM00 Build/SKQ1.210216.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/86.0.4240.99 XWEB/4375 MMWEBSDK/20221011 Mobile Safari/537.36 MMWEBID/9876 MicroMessenger/8.0.30.2260(0x28001E3B) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64",
		Agent{Named{"Android", "12"}, Named{"WeChat", "8.0.30.2260"}, Mobile}},
	{"alipay mini-program",
		"Mozilla/5.0 (Linux; U; Android 10; zh-CN; MI 9 Build/QKQ1.190825.002) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.0.36 Mobile Safari/537.36 AlipayChannelId/5136 UCBS/3.22.0.36_211123102318 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:393|0|2.75) AliApp(AP/10.2.53.7000) AlipayClient/10.2.53.7000 Language/zh-Hans useStatusBar/true isConcaveScreen/true Region/CNAriver/1.0.0 MiniProgram APXWebView",
		Agent{Named{"Android", "10"}, Named{"Alipay Mini Program", "10.2.53.7000"}, Mobile}},
	{"alipay app iOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Ariver/1.1.0 AliApp(AP/10.5.36.6000) Nebula WK RVKType(0) AlipayDefined(nt:WIFI,ws:390|844|3.0) AlipayClient/10.5.36.6000 Language/zh-Hans Region/CN NebulaX/1.0.0",
		Agent{Named{"iOS", "17.1"}, Named{"Alipay", "10.5.36.6000"}, Mobile}},
	{"harmonyos next phone",
		"Mozilla/5.0 (Phone; OpenHarmony 4.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300",
		Agent{Named{"HarmonyOS", "4.1"}, Named{"Huawei Browser", "5.0.4.300"}, Mobile}},
	{"harmonyos next tablet",
		"Mozilla/5.0 (Tablet; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1",
		Agent{Named{"HarmonyOS", "5.0"}, Named{"ArkWeb", "4.1.6.1"}, Tablet}},
	{"harmonyos 2 (android-compatible)",
		"Mozilla/5.0 (Linux; Android 10; HarmonyOS; NOH-AN00; HMSCore 6.11.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0.4844.88 HuaweiBrowser/13.0.5.303 Mobile Safari/537.36",
		Agent{Named{"HarmonyOS", ""}, Named{"Huawei Browser", "13.0.5.303"}, Mobile}},
	{"android chrome",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
		Agent{Named{"Android", "14"}, Named{"Chrome", "124.0.6367.82"}, Mobile}},
	{"android tablet",
		"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
		Agent{Named{"Android", "13"}, Named{"Chrome", "120.0.0.0"}, Tablet}},
	{"android webview",
		"Mozilla/5.0 (Linux; Android 11; M2012K11AC Build/RKQ1.200826.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/90.0.4430.210 Mobile Safari/537.36",
		Agent{Named{"Android", "11"}, Named{"Android WebView", "90.0.4430.210"}, Mobile}},
	{"android native (Dalvik)",
		"Dalvik/2.1.0 (Linux; U; Android 13; 22081212C Build/TKQ1.220829.002)",
		Agent{Named{"Android", "13"}, Named{}, Mobile}},
	{"iphone safari",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
		Agent{Named{"iOS", "17.4.1"}, Named{"Safari", "17.4.1"}, Mobile}},
	{"ipad safari",
		"Mozilla/5.0 (iPad; CPU OS 16_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.3 Mobile/15E148 Safari/604.1",
		Agent{Named{"iOS", "16.3"}, Named{"Safari", "16.3"}, Tablet}},
	{"iphone chrome",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
		Agent{Named{"iOS", "17.0"}, Named{"Chrome", "120.0.6099.119"}, Mobile}},
	{"iphone firefox",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
		Agent{Named{"iOS", "17.2"}, Named{"Firefox", "121.0"}, Mobile}},
	{"iOS app webview",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		Agent{Named{"iOS", "15.0"}, Named{"iOS WebView", ""}, Mobile}},
	{"windows chrome",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		Agent{Named{"Windows", "10"}, Named{"Chrome", "124.0.0.0"}, Desktop}},
	{"windows edge",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
		Agent{Named{"Windows", "10"}, Named{"Edge", "124.0.2478.80"}, Desktop}},
	{"windows 7 firefox",
		"Mozilla/5.0 (Windows NT 6.1; WOW64; rv:115.0) Gecko/20100101 Firefox/115.0",
		Agent{Named{"Windows", "7"}, Named{"Firefox", "115.0"}, Desktop}},
	{"windows ie11",
		"Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
		Agent{Named{"Windows", "7"}, Named{"Internet Explorer", "11.0"}, Desktop}},
	{"windows wechat",
		"Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/8519",
		Agent{Named{"Windows", "10"}, Named{"WeChat", "7.0.20.1781"}, Desktop}},
	{"macos safari",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		Agent{Named{"macOS", "10.15.7"}, Named{"Safari", "17.4"}, Desktop}},
	{"macos firefox",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
		Agent{Named{"macOS", "14.4"}, Named{"Firefox", "125.0"}, Desktop}},
	{"linux firefox",
		"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		Agent{Named{"Linux", ""}, Named{"Firefox", "125.0"}, Desktop}},
	{"dingtalk",
		"Mozilla/5.0 (Linux; U; Android 12; zh-CN; V2171A Build/SP1A.210812.003) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/69.0.3497.100 UWS/3.22.2.59 Mobile Safari/537.36 AliApp(DingTalk/7.0.40) com.alibaba.android.rimet/33119735 Channel/263200 language/zh-CN abi/64 Hmos/1 UT4Aplus/0.2.25",
		Agent{Named{"Android", "12"}, Named{"DingTalk", "7.0.40"}, Mobile}},
	{"googlebot",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Agent{Named{}, Named{"Googlebot", "2.1"}, Bot}},
	{"googlebot smartphone",
		"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		Agent{Named{"Android", "6.0.1"}, Named{"Googlebot", "2.1"}, Bot}},
	{"baiduspider",
		"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
		Agent{Named{}, Named{"Baiduspider", "2.0"}, Bot}},
	{"bytespider",
		"Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
		Agent{Named{"Android", "5.0"}, Named{"Bytespider", ""}, Bot}},
	{"headless chrome",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
		Agent{Named{"Linux", ""}, Named{"HeadlessChrome", "124.0.0.0"}, Bot}},
	{"generic bot", "SomeMonitor-bot/1.0", Agent{Named{}, Named{"Bot", ""}, Bot}},
	{"server sdk (Go)", "Go-http-client/1.1", Agent{}},
	{"curl", "curl/8.5.0", Agent{}},
	{"empty", "", Agent{}},
	{"blank", "   ", Agent{}},
	{"garbage", "\x00\xff<script>", Agent{}},
}

func TestParse(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.ua); got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.ua, got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"17_4_1 like", "17.4.1"},
		{"8.0.42(0x18002a2f)", "8.0.42"},
		{"1..2", "1"},
		{"10.", "10"},
		{"._1", ""},
		{"x1", ""},
		{strings.Repeat("9", 40), strings.Repeat("9", maxVersionLen)},
	}
	for _, tt := range tests {
		if got := version(tt.in); got != tt.want {
			t.Errorf("version(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// names is every name Parse may return.
func names() map[string]bool {
	m := map[string]bool{"": true, "WeChat Mini Program": true, "Alipay Mini Program": true, "Android WebView": true,
		"Safari": true, "iOS WebView": true, "Internet Explorer": true,
		"HarmonyOS": true, "iOS": true, "Android": true, "Windows Phone": true, "Windows": true, "macOS": true,
		"Chrome OS": true, "Linux": true}
	for _, b := range bots {
		m[b.name] = true
	}
	for _, b := range browsers {
		m[b.name] = true
	}
	return m
}

func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add(c.ua)
	}
	f.Add(strings.Repeat("Android ", 100))
	f.Add("MicroMessenger/")
	f.Add("Windows NT 99.99.99.99.99.99.99.99")
	known := names()
	f.Fuzz(func(t *testing.T, ua string) {
		a := Parse(ua)
		for _, n := range []Named{a.OS, a.Browser} {
			if !known[n.Name] {
				t.Fatalf("name %q not in the fixed set", n.Name)
			}
			if len(n.Version) > maxVersionLen || !utf8.ValidString(n.Version) {
				t.Fatalf("version %q", n.Version)
			}
			for _, c := range n.Version {
				if (c < '0' || c > '9') && c != '.' && n.Version != "Vista" && n.Version != "XP" {
					t.Fatalf("version %q has %q", n.Version, c)
				}
			}
		}
		switch a.Device {
		case "", Mobile, Tablet, Desktop, Bot:
		default:
			t.Fatalf("device %q", a.Device)
		}
		if Parse(ua) != a {
			t.Fatal("not deterministic")
		}
	})
}

func BenchmarkParse(b *testing.B) {
	ua := cases[0].ua
	b.ReportAllocs()
	for b.Loop() {
		Parse(ua)
	}
}

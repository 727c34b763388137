package useragent

import (
	"fmt"
	"strings"
	"testing"
)

func TestCache(t *testing.T) {
	c := NewCache(8)
	uas := []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
		"Mozilla/5.0 (Linux; Android 14; SM-S9180) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
		"Googlebot/2.1 (+http://www.google.com/bot.html)",
		"", "curl/8.5.0", strings.Repeat("x", maxCachedLen+1),
	}
	for range 3 {
		for _, ua := range uas {
			if got, want := c.Parse(ua), Parse(ua); got != want {
				t.Errorf("Cache.Parse(%.40q) = %+v, Parse %+v", ua, got, want)
			}
		}
	}
	for i := range 100 {
		ua := fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/%d.0", i)
		if got, want := c.Parse(ua), Parse(ua); got != want {
			t.Errorf("Cache.Parse(%q) = %+v, Parse %+v", ua, got, want)
		}
		if n := c.Len(); n > 8 {
			t.Fatalf("cache of 8 holds %d entries", n)
		}
	}
}

func BenchmarkCache(b *testing.B) {
	ua := "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN miniProgram/wxbench"
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Parse(ua)
		}
	})
	b.Run("cache", func(b *testing.B) {
		c := NewCache(1024)
		b.ReportAllocs()
		for b.Loop() {
			c.Parse(ua)
		}
	})
}

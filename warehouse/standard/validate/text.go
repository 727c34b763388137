package validate

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// FoldWidth maps East Asian width variants to their canonical form (Unicode width folding, the
// width part of NFKC): full-width ASCII "１２３ＡＢＣ－" becomes "123ABC-", the ideographic space
// becomes a space, half-width katakana becomes wide. CJK ideographs are unchanged. It is meant for
// code-like values (ID numbers, phones, codes, dates); free text goes through Text, which keeps
// Chinese full-width punctuation. Invalid UTF-8 is passed through unchanged.
func FoldWidth(s string) string {
	if isASCII(s) {
		return s
	}
	return width.Fold.String(s)
}

// Text cleans a single-line text value: it rejects invalid UTF-8, folds full-width ASCII letters
// and digits to half-width (keeping CJK ideographs and full-width punctuation such as "，（）",
// which is correct in Chinese text), turns every run of whitespace (including the ideographic
// space, no-break space and line breaks) into one space, drops control and format characters
// (C0/C1 controls, DEL, zero-width and bidirectional marks, BOM) and trims both ends. An empty
// result is not an error here: whether a value is required is the standard's decision.
func Text(s string) (string, error) {
	return clean(s, false)
}

// MultiLine cleans a multi-line text value (an opinion's content, a description) like Text but keeps
// line breaks: "\r\n", "\r", U+2028 and U+2029 become "\n", spaces around a break are dropped and
// more than one blank line in a row becomes one.
func MultiLine(s string) (string, error) {
	return clean(s, true)
}

func clean(s string, multiline bool) (string, error) {
	if isCleanASCII(s) || isCleanText(s) {
		return s, nil
	}
	return cleanFull(s, multiline)
}

// cleanFull is clean without the shortcuts for text that is already clean.
func cleanFull(s string, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errorf(KindEncoding, "invalid UTF-8 at byte %d", invalidAt(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines, prev := false, 0, rune(0)
	for _, r := range s {
		crlf := prev == '\r' && r == '\n'
		prev = r
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029'):
			if crlf {
				continue
			}
			pendingSpace = false
			if b.Len() > 0 {
				newlines++
			}
			continue
		case unicode.IsSpace(r):
			if b.Len() > 0 {
				pendingSpace = true
			}
			continue
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if newlines > 0 {
			if newlines > 2 {
				newlines = 2
			}
			b.WriteString("\n\n"[:newlines])
			newlines, pendingSpace = 0, false
		} else if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(foldAlnum(r))
	}
	return b.String(), nil
}

// foldAlnum maps full-width digits and Latin letters (U+FF10–FF19, FF21–FF3A, FF41–FF5A) to ASCII.
func foldAlnum(r rune) rune {
	if (r >= '０' && r <= '９') || (r >= 'Ａ' && r <= 'Ｚ') || (r >= 'ａ' && r <= 'ｚ') {
		return r - 0xFEE0
	}
	return r
}

// EscapeControl makes a raw value safe to show and log: control and format characters become
// \uXXXX escapes, invalid UTF-8 bytes become \xNN, a backslash becomes "\\". Everything else,
// including CJK text, is kept as is. It never fails; quarantine rows store raw values through it.
func EscapeControl(s string) string {
	if isCleanASCII(s) && !strings.Contains(s, `\`) {
		return s
	}
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		case r == '\\':
			b.WriteString(`\\`)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>uint(shift))&15])
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// compact folds width and removes every space character: the first step of code-like validators,
// where "5101 0419 9001 0112 34" and "１３８-0013-8000" are common.
func compact(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errorf(KindEncoding, "invalid UTF-8 at byte %d", invalidAt(s))
	}
	s = FoldWidth(s)
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s, nil
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isCleanASCII reports whether s is printable ASCII with no leading, trailing or doubled spaces:
// the common case, which Text returns without allocating.
func isCleanASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				return false
			}
			continue
		}
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// isCleanText reports whether s is text that clean returns unchanged, single-line or multi-line:
// valid UTF-8 without U+FFFD, no control or format characters, no line breaks, no whitespace but
// single ASCII spaces between other characters, no full-width digits or Latin letters. It is the
// common case of Chinese names and addresses, which Text then returns without allocating.
func isCleanText(s string) bool {
	space := true // a space here would be leading or doubled
	for _, r := range s {
		switch {
		case r == ' ':
			if space {
				return false
			}
			space = true
			continue
		case r < utf8.RuneSelf:
			if r < 0x21 || r == 0x7f {
				return false
			}
		case r >= 0x3400 && r <= 0x9fff: // CJK ideographs: neither space, control nor format
		case r == utf8.RuneError || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r) ||
			unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || foldAlnum(r) != r:
			return false
		}
		space = false
	}
	return s == "" || !space
}

func invalidAt(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

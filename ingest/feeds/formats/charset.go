package formats

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Charsets the readers produce.
const (
	UTF8    = "utf-8"
	GB18030 = "gb18030"
)

// DetectBytes is how much of a text body charset detection looks at.
const DetectBytes = 64 << 10

// ParseCharset normalises a charset label: "" stays "" (detect); utf-8/utf8 → utf-8;
// gbk/gb2312/gb18030/cp936 → gb18030.
func ParseCharset(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "utf-8", "utf8", "us-ascii", "ascii":
		return UTF8, nil
	case "gbk", "gb2312", "gb18030", "cp936", "x-gbk", "euc-cn":
		return GB18030, nil
	}
	return "", fmt.Errorf("charset %q: want utf-8, gbk or gb18030", s)
}

// DetectCharset says how to read a text body that begins with prefix: UTF8 when prefix is valid
// UTF-8 (an incomplete character cut off at its end is allowed when more may follow), else
// GB18030. Pure ASCII is UTF8.
func DetectCharset(prefix []byte, more bool) string {
	if more {
		// Drop a trailing incomplete UTF-8 sequence (at most 3 bytes) cut by the prefix's end.
		for i := 1; i <= 3 && i <= len(prefix); i++ {
			if utf8.RuneStart(prefix[len(prefix)-i]) {
				if !utf8.FullRune(prefix[len(prefix)-i:]) {
					prefix = prefix[:len(prefix)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(prefix) {
		return UTF8
	}
	return GB18030
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Decode returns r as UTF-8 text and the charset it was read in: charset as given (see
// ParseCharset), or detected from the first DetectBytes. A UTF-8 byte-order mark is dropped. In
// UTF-8 no bytes are changed (invalid sequences stay, for the row readers to reject); GB18030 is
// transcoded as it streams.
func Decode(r io.Reader, charset string) (io.Reader, string, error) {
	cs, err := ParseCharset(charset)
	if err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(r, DetectBytes)
	prefix, perr := br.Peek(DetectBytes)
	if perr != nil && perr != io.EOF && perr != bufio.ErrBufferFull {
		return nil, "", fmt.Errorf("read body: %w", perr)
	}
	if bytes.HasPrefix(prefix, utf8BOM) {
		_, _ = br.Discard(len(utf8BOM))
		prefix = prefix[len(utf8BOM):]
		if cs == "" {
			cs = UTF8
		}
	}
	if cs == "" {
		cs = DetectCharset(prefix, perr == nil)
	}
	if cs == GB18030 {
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), cs, nil
	}
	return br, cs, nil
}

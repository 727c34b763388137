package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"
)

// userAgent is the User-Agent every request sends: a WeChat mini-program on an iPhone, which
// the collector parses into context.server.
const userAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN miniProgram/wxbench"

// basicAuth is the Authorization credentials of the write key.
var basicAuth = base64.StdEncoding.EncodeToString([]byte(writeKey + ":"))

// rawClient is the cheap client: one keep-alive HTTP/1.1 connection per worker, each request
// written pre-encoded (request line, headers and body) with one write, and the answer's status
// and Content-Length read without net/http's per-request machinery. It sends what post sends,
// byte for byte the same headers, so that the load generator's own CPU — which shares the
// machine with the server it measures — is as small as it can be on both sides alike.
type rawClient struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

// encodeRequests returns each body as a complete POST request to target.
func encodeRequests(target string, bodies [][]byte) ([][]byte, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(bodies))
	for i, b := range bodies {
		var r bytes.Buffer
		fmt.Fprintf(&r, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nContent-Length: %d\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\n\r\n",
			u.RequestURI(), u.Host, userAgent, len(b), basicAuth)
		r.Write(b)
		out[i] = r.Bytes()
	}
	return out, nil
}

// do sends one encoded request and returns the answer's status, dialling first when the
// connection is not open (or was closed by the last answer or an error).
func (c *rawClient) do(ctx context.Context, req []byte) (int, error) {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return 0, err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 4096)
	}
	status, err := c.roundTrip(req)
	if err != nil {
		c.close()
	}
	return status, err
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

func (c *rawClient) roundTrip(req []byte) (int, error) {
	if err := c.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, err
	}
	if _, err := c.conn.Write(req); err != nil {
		return 0, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, closing := -1, false
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, _ := bytes.Cut(h, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, fmt.Errorf("unexpected Transfer-Encoding %q", value) // both servers send Content-Length
		}
	}
	if length < 0 {
		return 0, errors.New("answer without Content-Length")
	}
	if _, err := c.br.Discard(length); err != nil {
		return 0, err
	}
	if closing {
		c.close()
		return status, nil
	}
	return status, nil
}

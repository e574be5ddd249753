package cli

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestReadTokenResponse(t *testing.T) {
	cases := []struct {
		name, resp, wantErr string
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", ""},
		{"error status", "HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\n{}", "status 403"},
		{"no length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "content-length"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "read body"},
		{"not http", "SSH-2.0-OpenSSH\r\n", "bad status line"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := readTokenResponse(bufio.NewReader(strings.NewReader(tc.resp)))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestBenchTokensClients runs one short round with each client against a
// real in-process node: every request must be answered 200 (a mis-signed or
// mis-framed request would count as an error).
func TestBenchTokensClients(t *testing.T) {
	for _, client := range []string{"tcp", "raw", "sdk"} {
		t.Run(client, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := BenchTokens(ctx, time.Second, 2, client, "", io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Errors != 0 || res.RawSignPerSec <= 0 || res.TokensPerSec <= 0 {
				t.Fatalf("result %+v: want requests, no errors, both rates", res)
			}
		})
	}
}

// FuzzReadTokenResponse: whatever the server sends, the bench client's
// response reader returns nil or an error, never panics.
func FuzzReadTokenResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("HTTP/1.1 500 Internal\r\ncontent-length: 99999999999\r\n\r\n")
	f.Add("HTTP/1.1 200\r\n\r\n")
	f.Fuzz(func(t *testing.T, resp string) {
		_ = readTokenResponse(bufio.NewReader(strings.NewReader(resp)))
	})
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// tcpTokenClient sends SigV4-signed CreateParticipantToken requests over
// keep-alive TCP connections with HTTP/1.1 written and read by hand: the
// request is signed by the SDK's signer like any other, but no transport
// goroutines, connection pool or header maps sit between the caller and the
// socket. It exists so that `bench tokens` spends the machine on the server
// rather than on its own client: net/http's client hands every request to
// two goroutines of its own (persistConn's read and write loops).
//
// Every request carries the signature the SDK's signer returns for it, but
// the signer runs once per second of X-Amz-Date, not once per request: the
// requests are identical apart from that timestamp (second resolution), so
// the signer's output for the rest of that second is the same bytes. The
// server still verifies every request in full.
type tcpTokenClient struct {
	addr   string // host:port
	host   string // Host header
	region string
	creds  aws.Credentials
	body   []byte
	hash   string // hex SHA-256 of body
	signer *v4.Signer
	conns  chan *tcpConn // idle connections; at most one per concurrent caller
	signed atomic.Pointer[signedHeaders]
}

// signedHeaders are the SigV4 headers of the request for one second.
type signedHeaders struct {
	unix          int64 // the second X-Amz-Date names
	amzDate, auth string
}

// tcpConn is one keep-alive connection and its reusable request.
type tcpConn struct {
	c   net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	req *http.Request // only signed, never sent by net/http
}

func newTCPTokenClient(endpoint, region string, creds aws.Credentials, body []byte, conc int) (*tcpTokenClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("endpoint %s: the tcp client speaks plain http only", endpoint)
	}
	sum := sha256.Sum256(body)
	return &tcpTokenClient{
		addr: u.Host, host: u.Host, region: region, creds: creds, body: body,
		hash: hex.EncodeToString(sum[:]), signer: v4.NewSigner(),
		conns: make(chan *tcpConn, conc),
	}, nil
}

// Close closes the idle connections.
func (c *tcpTokenClient) Close() {
	for {
		select {
		case tc := <-c.conns:
			_ = tc.c.Close()
		default:
			return
		}
	}
}

// Call sends one request and reads its response; it fails unless the
// status is 200.
func (c *tcpTokenClient) Call(ctx context.Context) error {
	var tc *tcpConn
	select {
	case tc = <-c.conns:
	default:
		var err error
		if tc, err = c.dial(ctx); err != nil {
			return err
		}
	}
	if err := c.roundTrip(ctx, tc); err != nil {
		_ = tc.c.Close() // the connection's state is unknown now
		return err
	}
	select {
	case c.conns <- tc:
	default:
		_ = tc.c.Close()
	}
	return nil
}

func (c *tcpTokenClient) dial(ctx context.Context) (*tcpConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+c.host+"/CreateParticipantToken", nil)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(c.body))
	return &tcpConn{c: conn, r: bufio.NewReaderSize(conn, 8<<10), w: bufio.NewWriterSize(conn, 4<<10), req: req}, nil
}

// sign returns the SigV4 headers for a request sent now, signing with the
// SDK's signer when the second has changed since the last signature.
func (c *tcpTokenClient) sign(ctx context.Context, tc *tcpConn) (*signedHeaders, error) {
	now := time.Now().UTC()
	if s := c.signed.Load(); s != nil && s.unix == now.Unix() {
		return s, nil
	}
	if err := c.signer.SignHTTP(ctx, c.creds, tc.req, c.hash, "ivs", c.region, now); err != nil {
		return nil, err
	}
	s := &signedHeaders{unix: now.Unix(), amzDate: tc.req.Header.Get("X-Amz-Date"), auth: tc.req.Header.Get("Authorization")}
	c.signed.Store(s)
	return s, nil
}

func (c *tcpTokenClient) roundTrip(ctx context.Context, tc *tcpConn) error {
	sh, err := c.sign(ctx, tc)
	if err != nil {
		return err
	}
	w := tc.w
	w.WriteString("POST /CreateParticipantToken HTTP/1.1\r\nHost: ")
	w.WriteString(c.host)
	w.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(c.body)))
	w.WriteString("\r\nX-Amz-Date: ")
	w.WriteString(sh.amzDate)
	w.WriteString("\r\nAuthorization: ")
	w.WriteString(sh.auth)
	w.WriteString("\r\n\r\n")
	w.Write(c.body)
	if err := w.Flush(); err != nil {
		return err
	}
	return readTokenResponse(tc.r)
}

// maxBenchResponse bounds the response body the tcp client accepts.
const maxBenchResponse = 1 << 20

// readTokenResponse reads one HTTP/1.1 response with a Content-Length body
// (what the API sends for JSON) and discards the body.
func readTokenResponse(r *bufio.Reader) error {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return fmt.Errorf("bad status line %q", line)
	}
	status := string(line[9:12])
	length := -1
	for {
		h, err := r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("read header: %w", err)
		}
		if len(h) <= 2 { // the blank line
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return fmt.Errorf("bad content-length %q", value)
			}
		}
	}
	if length < 0 || length > maxBenchResponse {
		return errors.New("response without a usable content-length")
	}
	if _, err := r.Discard(length); err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if status != "200" {
		return fmt.Errorf("status %s", status)
	}
	return nil
}

package srt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	gosrt "github.com/datarhei/gosrt"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

// errShutdown is the Session.Close error when the server stops.
var errShutdown = errors.New("ingest server shutting down")

// srtConn is one accepted caller.
type srtConn struct {
	s          *Server
	conn       gosrt.Conn
	key        auth.Secret
	passphrase auth.Secret
	log        *slog.Logger

	closed       atomic.Bool  // set before this side closes the connection
	lastRead     atomic.Int64 // unix nanoseconds of the last payload
	longWaitEnd  atomic.Int64 // unix nanoseconds when a read that waited >= idleTO/2 returned
	decodeErrors atomic.Int64
	dropped      atomic.Int64 // payloads dropped because queue was full

	// queue carries payloads from pump to Read; pumpErr is set before
	// queue is closed.
	queue   chan []byte
	pumpErr error
	cur     []byte // the payload Read is consuming
}

// maxQueuedPayloads bounds the payloads waiting for the demuxer: gosrt
// drops packets when its own 1024-packet read queue is full, so a slow
// Publish (pipeline start) or demux hiccup must not stall reading. 8192
// payloads of 1316 bytes are about 10 MiB, 10 s at 8 Mbit/s.
const maxQueuedPayloads = 8192

func newSRTConn(s *Server, conn gosrt.Conn, key, passphrase auth.Secret, log *slog.Logger) *srtConn {
	return &srtConn{s: s, conn: conn, key: key, passphrase: passphrase, log: log,
		queue: make(chan []byte, maxQueuedPayloads)}
}

// pump reads payloads from the connection into queue until the connection
// ends; it never blocks on the consumer (a full queue drops and counts).
func (c *srtConn) pump() {
	buf := make([]byte, 1500)
	for {
		n, err := c.readConn(buf)
		if n > 0 {
			select {
			case c.queue <- append([]byte(nil), buf[:n]...):
			default:
				c.dropped.Add(1)
			}
		}
		if err != nil {
			c.pumpErr = err
			close(c.queue)
			return
		}
	}
}

// Read feeds the MPEG-TS reader from the queue.
func (c *srtConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, io.EOF // closed by this side: what is queued is not wanted
	}
	if len(c.cur) == 0 {
		b, ok := <-c.queue
		if !ok {
			return 0, c.pumpErr
		}
		c.cur = b
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// maxSpuriousEOF is how many io.EOF in a row Read tolerates before it
// believes the connection closed. gosrt v0.11.0 answers io.EOF for a
// packet that arrives out of order (a late retransmission) without closing
// anything; a closed connection answers io.EOF at once, every time.
const maxSpuriousEOF = 1000

// close closes the connection from this side. Read answers io.EOF from
// then on: gosrt may still hand out queued packets after Close.
func (c *srtConn) close() {
	c.closed.Store(true)
	_ = c.conn.Close()
}

// readConn reads one payload and notes when data last arrived.
func (c *srtConn) readConn(p []byte) (int, error) {
	for eofs := 0; ; eofs++ {
		if c.closed.Load() {
			return 0, io.EOF
		}
		start := time.Now()
		n, err := c.conn.Read(p)
		now := time.Now()
		if now.Sub(start) >= c.s.idleTO/2 {
			c.longWaitEnd.Store(now.UnixNano())
		}
		if n > 0 {
			c.lastRead.Store(now.UnixNano())
		}
		if !errors.Is(err, io.EOF) || n > 0 || eofs >= maxSpuriousEOF {
			return n, err
		}
	}
}

func (c *srtConn) refuse(reason string) {
	c.log.Warn("publish refused", "reason", reason)
}

func (c *srtConn) serve(ctx context.Context) {
	var timedOut atomic.Bool
	hsTimer := time.AfterFunc(c.s.hsTO, func() {
		timedOut.Store(true)
		c.close()
	})
	defer hsTimer.Stop()
	noMedia := func(err error) {
		if timedOut.Load() {
			c.refuse(fmt.Sprintf("no codec configuration (PMT, parameter sets, key frame) within %s", c.s.hsTO))
			return
		}
		c.log.Info("caller left before media started", "err", err)
	}

	r := &mpegts.Reader{R: c}
	if err := r.Initialize(); err != nil {
		noMedia(err)
		return
	}
	r.OnDecodeError(func(error) { c.decodeErrors.Add(1) })
	d, err := newDemuxer(r.Tracks())
	if err != nil {
		c.refuse(fmt.Sprintf("%s: %v", ingest.ErrUnsupported, err))
		return
	}
	d.attach(r)
	for !d.ready() {
		if err := r.Read(); err != nil {
			noMedia(err)
			return
		}
		if d.overflow {
			c.refuse(fmt.Sprintf("no codec configuration (parameter sets, key frame) within %d units", maxBufferedUnits))
			return
		}
	}
	if !hsTimer.Stop() {
		noMedia(errors.New("handshake timeout"))
		return
	}
	sess, err := c.s.sink.Publish(ctx, ingest.Request{
		Protocol:   ingest.SRT,
		StreamKey:  c.key,
		RemoteAddr: c.conn.RemoteAddr().String(),
		Passphrase: c.passphrase,
		Tracks:     d.tracks,
	})
	if err != nil {
		c.refuse(err.Error())
		return
	}
	c.publish(ctx, r, d, sess)
}

func (c *srtConn) publish(ctx context.Context, r *mpegts.Reader, d *demuxer, sess ingest.Session) {
	log := c.log.With("channel_arn", sess.ChannelARN())
	desc := make([]string, len(d.tracks))
	for i, t := range d.tracks {
		desc[i] = t.String()
	}
	log.Info("publish started", "protocol", string(ingest.SRT), "tracks", strings.Join(desc, ", "))

	var stopped atomic.Bool
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-sess.Done():
			stopped.Store(true)
			c.close()
		case <-done:
		}
	})
	finish := sync.OnceFunc(func() {
		close(done)
		wg.Wait()
	})
	defer finish()
	defer func() {
		// A parser panic (recovered and logged in handle) still ends the
		// session.
		if r := recover(); r != nil {
			sess.Close(fmt.Errorf("internal error: %v", r))
			panic(r)
		}
	}()

	var units, bytes int64
	d.goLive(func(u *media.Unit) {
		units++
		bytes += int64(u.Size())
		sess.Write(u)
	})
	var err error
	for err == nil {
		err = r.Read()
	}
	finish()

	// SRT carries no unpublish; a caller that closed its socket sent data
	// until just before, while the idle timeout fires after a silence (the
	// receiver may flush its buffer on close, so a long wait just before
	// the end also counts as silence).
	idle := time.Since(time.Unix(0, c.lastRead.Load()))
	if since := time.Since(time.Unix(0, c.longWaitEnd.Load())); since < 2*time.Second {
		idle = max(idle, c.s.idleTO)
	}
	var end error
	reason := ""
	switch {
	case stopped.Load():
		reason = "stopped by the server"
	case ctx.Err() != nil:
		end, reason = errShutdown, errShutdown.Error()
	case idle < c.s.idleTO/2:
		reason = "caller closed the connection"
	default:
		end = fmt.Errorf("no data for %s: %w", idle.Round(time.Second), err)
		reason = end.Error()
	}
	sess.Close(end)
	log.Info("publish ended", "reason", reason, "units", units, "bytes", bytes,
		"decode_errors", c.decodeErrors.Load(), "dropped_payloads", c.dropped.Load())
}

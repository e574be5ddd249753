package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/amf0"
	"github.com/bluenviron/gortmplib/pkg/message"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/ingest"
	"github.com/stagecast/stagecast/internal/media"
)

// maxEncoderLen bounds the "encoder" metadata string kept for the stream
// session (OBS sends about 60 characters).
const maxEncoderLen = 256

var (
	// errUnpublished ends the read loop when the publisher sends
	// FCUnpublish/deleteStream: a clean end.
	errUnpublished = errors.New("publisher unpublished")
	// errShutdown is the Session.Close error when the server stops.
	errShutdown = errors.New("ingest server shutting down")
)

// handle serves one accepted connection and closes it.
func (s *Server) handle(ctx context.Context, nc net.Conn) {
	defer func() { _ = nc.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	defer stop()
	c := &conn{s: s, nc: nc, log: s.log.With("remote_addr", nc.RemoteAddr().String())}
	defer func() {
		// gortmplib has "should not happen" panics on input it did not
		// expect; one bad client must not take the server down.
		if r := recover(); r != nil {
			c.log.Error("connection handler panicked", "err", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	c.serve(ctx)
}

// conn is one client connection.
type conn struct {
	s   *Server
	nc  net.Conn
	log *slog.Logger
}

func (c *conn) refuse(reason string, attrs ...any) {
	c.log.Warn("publish refused", append([]any{"reason", reason}, attrs...)...)
}

func (c *conn) serve(ctx context.Context) {
	s := c.s
	deadline := time.Now().Add(s.hsTO)
	_ = c.nc.SetDeadline(deadline)
	sc := &gortmplib.ServerConn{RW: c.nc}
	if err := sc.Initialize(); err != nil {
		c.log.Debug("handshake failed", "err", err)
		return
	}
	if err := sc.AcceptConn(); err != nil {
		c.log.Debug("connect failed", "err", err)
		return
	}
	if !sc.Publish {
		_ = sc.RejectAction()
		c.refuse("play requested: this server only accepts publishers")
		return
	}
	key, err := StreamKeyFromPath(sc.URL.Path)
	if err != nil {
		_ = sc.RejectAction()
		c.refuse(err.Error())
		return
	}
	secret := auth.Secret(key)
	// Refuse unknown keys before accepting media. The Sink answers
	// ErrUnknownStreamKey for any protocol; Publish decides the rest.
	lctx, cancel := context.WithDeadline(ctx, deadline)
	_, err = s.sink.SRTPassphrase(lctx, secret)
	cancel()
	if errors.Is(err, ingest.ErrUnknownStreamKey) {
		_ = sc.RejectAction()
		c.refuse(err.Error())
		return
	}
	if err := sc.AcceptAction(); err != nil {
		c.log.Debug("accept publish failed", "err", err)
		return
	}

	mc := &msgConn{sc: sc, nc: c.nc, hsDeadline: deadline, readTO: s.readTO}
	mc.inHandshake.Store(true)
	r := &gortmplib.Reader{Conn: mc}
	if err := r.Initialize(); err != nil {
		c.log.Info("publisher sent no usable media", "err", err)
		return
	}
	av1Config := mc.av1TU
	if av1Config == nil {
		av1Config = mc.av1Config
	}
	tracks, err := mediaTracks(r.Tracks(), av1Config)
	if err != nil {
		c.refuse(fmt.Sprintf("%s: %v", ingest.ErrUnsupported, err))
		return
	}
	sess, err := s.sink.Publish(ctx, ingest.Request{
		Protocol:   s.protocol,
		StreamKey:  secret,
		RemoteAddr: c.nc.RemoteAddr().String(),
		Tracks:     tracks,
		Encoder:    mc.encoder,
	})
	if err != nil {
		c.refuse(err.Error())
		return
	}
	mc.inHandshake.Store(false)
	c.publish(ctx, r, sess, tracks, mc)
}

// publish reads media until the publisher leaves, the session asks it to
// go, or ctx ends, then reports the end to the session.
func (c *conn) publish(ctx context.Context, r *gortmplib.Reader, sess ingest.Session, tracks []media.Track, mc *msgConn) {
	log := c.log.With("channel_arn", sess.ChannelARN())
	desc := make([]string, len(tracks))
	for i, t := range tracks {
		desc[i] = t.String()
	}
	log.Info("publish started", "protocol", string(c.s.protocol), "tracks", strings.Join(desc, ", "), "encoder", mc.encoder)

	var stopped atomic.Bool
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case <-sess.Done():
			stopped.Store(true)
			_ = c.nc.Close()
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
	attach(r, r.Tracks(), tracks, func(u *media.Unit) {
		units++
		bytes += int64(u.Size())
		sess.Write(u)
	}, mc.arrival)
	var err error
	for err == nil {
		err = r.Read()
	}
	finish()

	var end error
	reason := ""
	switch {
	case errors.Is(err, errUnpublished):
		reason = "unpublished"
	case stopped.Load():
		reason = "stopped by the server"
	case ctx.Err() != nil:
		end, reason = errShutdown, errShutdown.Error()
	default:
		end = fmt.Errorf("read: %w", err)
		reason = end.Error()
	}
	sess.Close(end)
	log.Info("publish ended", "reason", reason, "units", units, "bytes", bytes)
}

// msgConn sits between the RTMP connection and gortmplib's Reader: it sets
// deadlines before every read, picks up metadata the Reader ignores
// (encoder name, AV1 configuration) and turns unpublish commands into
// errUnpublished.
type msgConn struct {
	sc          *gortmplib.ServerConn
	nc          net.Conn
	hsDeadline  time.Time
	readTO      time.Duration
	inHandshake atomic.Bool

	// newest is the largest media timestamp read so far (nanoseconds).
	newest atomic.Int64

	encoder   string
	av1Config []byte // configOBUs of the AV1 sequence start
	av1TU     []byte // the first AV1 temporal unit holding a sequence header
}

func (m *msgConn) BytesReceived() uint64           { return m.sc.BytesReceived() }
func (m *msgConn) BytesSent() uint64               { return m.sc.BytesSent() }
func (m *msgConn) Write(msg message.Message) error { return m.sc.Write(msg) }

func (m *msgConn) Read() (message.Message, error) {
	dl := time.Now().Add(m.readTO)
	if m.inHandshake.Load() && m.hsDeadline.Before(dl) {
		dl = m.hsDeadline
	}
	// Reads and writes (acknowledgements) share the deadline, so a client
	// that stops reading cannot park the goroutine in a write either.
	_ = m.nc.SetDeadline(dl)
	msg, err := m.sc.Read()
	if err != nil {
		return nil, err
	}
	switch msg := msg.(type) {
	case *message.Video:
		m.noteTime(msg.DTS)
	case *message.Audio:
		m.noteTime(msg.DTS)
	case *message.DataAMF0:
		if m.encoder == "" {
			m.encoder = encoderFromMetadata(msg.Payload)
		}
	case *message.VideoExSequenceStart:
		if msg.AV1Config != nil && m.av1Config == nil {
			m.av1Config = msg.AV1Config.ConfigOBUs
		}
	case *message.VideoExFramesX:
		m.noteTime(msg.DTS)
		m.noteAV1(msg.FourCC, msg.Payload)
	case *message.VideoExCodedFrames:
		m.noteTime(msg.DTS)
		m.noteAV1(msg.FourCC, msg.Payload)
	case *message.CommandAMF0:
		switch msg.Name {
		case "FCUnpublish", "deleteStream", "closeStream":
			return nil, errUnpublished
		}
	}
	return msg, nil
}

func (m *msgConn) noteTime(dts time.Duration) {
	if int64(dts) > m.newest.Load() {
		m.newest.Store(int64(dts))
	}
}

// maxReplayLag bounds the arrival correction: the track analysis buffers
// about two seconds.
const maxReplayLag = 10 * time.Second

// arrival estimates when the frame with timestamp ts reached the server:
// now, less how far ts lags behind the newest timestamp read. Frames that
// gortmplib buffered during its track analysis and replays afterwards
// would otherwise look seconds younger than they are.
func (m *msgConn) arrival(ts time.Duration) time.Time {
	now := time.Now()
	if lag := time.Duration(m.newest.Load()) - ts; lag > 0 && lag < maxReplayLag {
		return now.Add(-lag)
	}
	return now
}

// noteAV1 keeps the first AV1 temporal unit with a sequence header seen
// during the track analysis: some writers put a placeholder in the sequence
// start, the key frame's header is authoritative.
func (m *msgConn) noteAV1(fourCC message.FourCC, payload []byte) {
	if fourCC != message.FourCCAV1 || m.av1TU != nil || !m.inHandshake.Load() {
		return
	}
	if seq, _, _ := av1SequenceHeader(payload); seq != nil {
		m.av1TU = payload
	}
}

// encoderFromMetadata returns the "encoder" entry of an onMetaData message
// ("" when absent), cut to maxEncoderLen printable ASCII characters.
func encoderFromMetadata(d amf0.Data) string {
	for _, v := range d {
		var o amf0.Object
		switch v := v.(type) {
		case amf0.Object:
			o = v
		case amf0.ECMAArray:
			o = amf0.Object(v)
		default:
			continue
		}
		enc, ok := o.GetString("encoder")
		if !ok {
			continue
		}
		enc = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return -1
			}
			return r
		}, enc)
		if len(enc) > maxEncoderLen {
			enc = enc[:maxEncoderLen]
		}
		return enc
	}
	return ""
}

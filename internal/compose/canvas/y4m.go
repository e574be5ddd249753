package canvas

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// YUV4MPEG2 limits.
const (
	// MaxY4MDim bounds width and height: IVS publishers are at most 1920
	// on a side and decoders never upscale beyond the canvas (1920x1920).
	MaxY4MDim = 4096
	// maxY4MLine bounds a stream or frame header line; ffmpeg writes about
	// 60 bytes.
	maxY4MLine = 1024
)

// ErrY4M is returned for a malformed YUV4MPEG2 stream.
var ErrY4M = errors.New("malformed yuv4mpeg2 stream")

// Y4MReader reads yuv420p frames from a YUV4MPEG2 stream.
type Y4MReader struct {
	r    *bufio.Reader
	w, h int
	buf  []byte
}

// NewY4MReader returns a reader; the stream header is read by the first
// Next.
func NewY4MReader(r io.Reader) *Y4MReader {
	return &Y4MReader{r: bufio.NewReaderSize(r, 64<<10)}
}

func (y *Y4MReader) line() ([]byte, error) {
	var out []byte
	for {
		b, err := y.r.ReadSlice('\n')
		out = append(out, b...)
		if len(out) > maxY4MLine {
			return nil, fmt.Errorf("%w: header longer than %d bytes", ErrY4M, maxY4MLine)
		}
		if err == nil {
			return out[:len(out)-1], nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(out) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

func (y *Y4MReader) header() error {
	l, err := y.line()
	if err != nil {
		return err
	}
	fields := bytes.Fields(l)
	if len(fields) == 0 || string(fields[0]) != "YUV4MPEG2" {
		return fmt.Errorf("%w: no YUV4MPEG2 signature", ErrY4M)
	}
	for _, f := range fields[1:] {
		switch f[0] {
		case 'W', 'H':
			v, err := strconv.Atoi(string(f[1:]))
			if err != nil || v <= 0 || v > MaxY4MDim || v%2 != 0 {
				return fmt.Errorf("%w: bad size %q", ErrY4M, f)
			}
			if f[0] == 'W' {
				y.w = v
			} else {
				y.h = v
			}
		case 'C':
			if !bytes.HasPrefix(f[1:], []byte("420")) {
				return fmt.Errorf("%w: colour space %q is not 4:2:0", ErrY4M, f[1:])
			}
		}
	}
	if y.w == 0 || y.h == 0 {
		return fmt.Errorf("%w: no size", ErrY4M)
	}
	return nil
}

// Next reads the next frame. The returned frame's planes stay valid until
// the next call; callers that keep it must copy it.
func (y *Y4MReader) Next() (*Frame, error) {
	if y.w == 0 {
		if err := y.header(); err != nil {
			return nil, err
		}
	}
	l, err := y.line()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(l, []byte("FRAME")) {
		return nil, fmt.Errorf("%w: no FRAME marker", ErrY4M)
	}
	n := Size(y.w, y.h)
	if cap(y.buf) < n {
		y.buf = make([]byte, n)
	}
	y.buf = y.buf[:n]
	if _, err := io.ReadFull(y.r, y.buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	f := &Frame{W: y.w, H: y.h}
	f.SetBytes(y.buf)
	return f, nil
}

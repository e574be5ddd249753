package transcode

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxJPEGSize bounds one image read from a child: a 1080p thumbnail at
// the quality we ask for is well under 1 MiB; 16 MiB leaves room for any
// sane picture and stops a broken stream from growing a buffer forever.
const maxJPEGSize = 16 << 20

// errJPEGTooLarge is returned when an image exceeds maxJPEGSize.
var errJPEGTooLarge = errors.New("jpeg image too large")

// jpegReader splits a stream of concatenated JPEG images (ffmpeg's
// image2pipe/mjpeg output) by walking the JPEG markers.
type jpegReader struct {
	r   *bufio.Reader
	buf []byte
}

func newJPEGReader(r io.Reader) *jpegReader {
	return &jpegReader{r: bufio.NewReaderSize(r, 64<<10)}
}

func (j *jpegReader) byte() (byte, error) {
	if len(j.buf) >= maxJPEGSize {
		return 0, errJPEGTooLarge
	}
	b, err := j.r.ReadByte()
	if err != nil {
		return 0, err
	}
	j.buf = append(j.buf, b)
	return b, nil
}

// next returns the next whole image (a fresh slice), io.EOF at a clean end
// of stream.
func (j *jpegReader) next() ([]byte, error) {
	j.buf = nil
	// Find SOI (FF D8), skipping garbage between images.
	for {
		b, err := j.r.ReadByte()
		if err != nil {
			return nil, err
		}
		if b != 0xff {
			continue
		}
		b2, err := j.r.ReadByte()
		if err != nil {
			return nil, unexpected(err)
		}
		if b2 == 0xd8 {
			break
		}
		if b2 == 0xff {
			_ = j.r.UnreadByte()
		}
	}
	j.buf = append(make([]byte, 0, 64<<10), 0xff, 0xd8)
	m, err := j.marker()
	for {
		if err != nil {
			return nil, unexpected(err)
		}
		switch {
		case m == 0xd9: // EOI
			return j.buf, nil
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // no length
		default:
			if err := j.skipSegment(); err != nil {
				return nil, unexpected(err)
			}
			if m == 0xda { // SOS: entropy-coded data, ended by a marker
				m, err = j.scan()
				continue
			}
		}
		m, err = j.marker()
	}
}

// marker reads FF (fill FFs) and a marker code, after a segment.
func (j *jpegReader) marker() (byte, error) {
	b, err := j.byte()
	if err != nil {
		return 0, err
	}
	if b != 0xff {
		return 0, fmt.Errorf("jpeg: expected a marker, got 0x%02x", b)
	}
	for {
		m, err := j.byte()
		if err != nil {
			return 0, err
		}
		if m != 0xff {
			return m, nil
		}
	}
}

func (j *jpegReader) skipSegment() error {
	hi, err := j.byte()
	if err != nil {
		return err
	}
	lo, err := j.byte()
	if err != nil {
		return err
	}
	n := int(hi)<<8 | int(lo)
	if n < 2 {
		return fmt.Errorf("jpeg: segment length %d", n)
	}
	for range n - 2 {
		if _, err := j.byte(); err != nil {
			return err
		}
	}
	return nil
}

// scan reads entropy-coded data up to the next marker that is not a
// stuffed byte or a restart marker, and returns that marker's code.
func (j *jpegReader) scan() (byte, error) {
	for {
		b, err := j.byte()
		if err != nil {
			return 0, err
		}
		if b != 0xff {
			continue
		}
		m, err := j.byte()
		for err == nil && m == 0xff {
			m, err = j.byte()
		}
		if err != nil {
			return 0, err
		}
		if m == 0x00 || (m >= 0xd0 && m <= 0xd7) {
			continue
		}
		return m, nil
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package transcode

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"
)

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJPEGReaderSplitsConcatenatedImages(t *testing.T) {
	a, b := testJPEG(t, 64, 48), testJPEG(t, 32, 32)
	var stream []byte
	stream = append(stream, a...)
	stream = append(stream, 0x00, 0x12) // garbage between images is skipped
	stream = append(stream, b...)
	stream = append(stream, a...)
	jr := newJPEGReader(bytes.NewReader(stream))
	for i, want := range [][]byte{a, b, a} {
		got, err := jr.next()
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("image %d: %d bytes, want %d", i, len(got), len(want))
		}
	}
	if _, err := jr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last image: %v, want EOF", err)
	}
	// A truncated image is an unexpected EOF, not a picture.
	jr = newJPEGReader(bytes.NewReader(a[:len(a)/2]))
	if _, err := jr.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated image: %v", err)
	}
}

func FuzzJPEGReader(f *testing.F) {
	f.Add(testJPEG(f, 16, 16))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0x00, 0xff, 0xd0, 0xff, 0xd9})
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		jr := newJPEGReader(bytes.NewReader(data))
		total := 0
		for {
			img, err := jr.next()
			if err != nil {
				return
			}
			if len(img) < 4 || img[0] != 0xff || img[1] != 0xd8 || img[len(img)-2] != 0xff || img[len(img)-1] != 0xd9 {
				t.Fatalf("image without SOI/EOI: % x", img)
			}
			total += len(img)
			if total > len(data) {
				t.Fatalf("read %d image bytes from %d input bytes", total, len(data))
			}
		}
	})
}

func FuzzDemuxTS(f *testing.F) {
	f.Add(make([]byte, 188*3))
	f.Add(append([]byte{0x47, 0x40, 0x00, 0x10, 0x00}, make([]byte, 183)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		tracks, units, err := DemuxTS(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, u := range units {
			if u.Track < 0 || u.Track >= len(tracks) {
				t.Fatalf("unit of track %d with %d tracks", u.Track, len(tracks))
			}
		}
	})
}

package canvas

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/stagecast/stagecast/internal/compose/layout"
)

func solid(w, h int, c Color) *Frame {
	f := NewFrame(w, h)
	f.Fill(c)
	return f
}

func near(a, b Color) bool {
	d := func(x, y byte) int { return max(int(x)-int(y), int(y)-int(x)) }
	return d(a.Y, b.Y) <= 2 && d(a.U, b.U) <= 2 && d(a.V, b.V) <= 2
}

func TestDrawFillModes(t *testing.T) {
	red, blue := RGB(255, 0, 0), RGB(0, 0, 255)
	bg := RGB(0, 64, 0)
	// A 4:3 source with a blue left half and red right half.
	src := solid(320, 240, red)
	src.FillRect(layout.Rect{W: 160, H: 240}, blue)
	tile := layout.Rect{X: 100, Y: 50, W: 320, H: 180}

	t.Run("contain", func(t *testing.T) {
		dst := solid(640, 360, Black)
		Draw(dst, src, tile, layout.Contain, bg, nil)
		// 4:3 in 16:9: 240x180 centred, bars at the sides.
		for _, c := range []struct {
			x, y int
			want Color
		}{{102, 100, bg}, {418, 100, bg}, {150, 100, blue}, {370, 100, red}, {90, 100, Black}, {150, 230, Black}} {
			if got := dst.At(c.x, c.y); !near(got, c.want) {
				t.Errorf("(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("cover", func(t *testing.T) {
		dst := solid(640, 360, Black)
		Draw(dst, src, tile, layout.Cover, bg, nil)
		// Cropped top and bottom: the whole tile is picture.
		for _, c := range []struct {
			x, y int
			want Color
		}{{102, 52, blue}, {418, 228, red}, {258, 140, blue}, {262, 140, red}} {
			if got := dst.At(c.x, c.y); !near(got, c.want) {
				t.Errorf("(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
			}
		}
	})
	t.Run("fill", func(t *testing.T) {
		dst := solid(640, 360, Black)
		Draw(dst, src, tile, layout.Stretch, bg, nil)
		if got := dst.At(102, 52); !near(got, blue) {
			t.Errorf("left %v", got)
		}
		if got := dst.At(418, 228); !near(got, red) {
			t.Errorf("right %v", got)
		}
	})
}

func TestPlacement(t *testing.T) {
	crop, dst := Placement(1280, 720, layout.Rect{W: 300, H: 300}, layout.Cover)
	if crop != (layout.Rect{X: 280, W: 720, H: 720}) || dst != (layout.Rect{W: 300, H: 300}) {
		t.Fatalf("cover %v %v", crop, dst)
	}
	_, dst = Placement(1280, 720, layout.Rect{W: 300, H: 300}, layout.Contain)
	if dst != (layout.Rect{Y: 66, W: 300, H: 168}) {
		t.Fatalf("contain %v", dst)
	}
}

func TestScaleGradient(t *testing.T) {
	// A horizontal gradient must stay monotonic when scaled up and down.
	src := NewFrame(64, 16)
	for y := range 16 {
		for x := range 64 {
			src.Y[y*64+x] = byte(x * 4)
		}
	}
	for _, w := range []int{32, 64, 100, 256} {
		dst := NewFrame(w, 16)
		Draw(dst, src, layout.Rect{W: w, H: 16}, layout.Stretch, Black, nil)
		for x := 1; x < w; x++ {
			if dst.Y[8*w+x] < dst.Y[8*w+x-1] {
				t.Fatalf("width %d: not monotonic at %d", w, x)
			}
		}
		if dst.Y[8*w] > 8 || dst.Y[8*w+w-1] < 240 {
			t.Fatalf("width %d: ends %d %d", w, dst.Y[8*w], dst.Y[8*w+w-1])
		}
	}
}

func y4m(w, h int, frames ...Color) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "YUV4MPEG2 W%d H%d F30:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n", w, h)
	for _, c := range frames {
		b.WriteString("FRAME\n")
		b.Write(solid(w, h, c).Bytes(nil))
	}
	return b.Bytes()
}

func TestY4MReader(t *testing.T) {
	red := RGB(255, 0, 0)
	r := NewY4MReader(bytes.NewReader(y4m(16, 8, red, White)))
	f, err := r.Next()
	if err != nil || f.W != 16 || f.H != 8 || f.At(3, 3) != red {
		t.Fatalf("frame 1: %v %v", f, err)
	}
	f, err = r.Next()
	if err != nil || f.At(15, 7) != White {
		t.Fatalf("frame 2: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	bad := [][]byte{
		[]byte("YUV4MPEG2 W0 H8\n"),
		[]byte("YUV4MPEG2 W16 H8 C444\n"),
		[]byte("NOTY4M W16 H8\n"),
		append([]byte("YUV4MPEG2 W16 H8\nFRAME\n"), 1, 2, 3),
		bytes.Repeat([]byte("Y"), 5000),
	}
	for i, b := range bad {
		if _, err := NewY4MReader(bytes.NewReader(b)).Next(); err == nil {
			t.Errorf("case %d accepted", i)
		}
	}
}

func FuzzY4MReader(f *testing.F) {
	f.Add(y4m(4, 2, White))
	f.Add([]byte("YUV4MPEG2 W4 H2\nFRAME\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewY4MReader(bytes.NewReader(b))
		for range 4 {
			fr, err := r.Next()
			if err != nil {
				return
			}
			if len(fr.Y) != fr.W*fr.H || fr.W > MaxY4MDim || fr.H > MaxY4MDim {
				t.Fatalf("frame %dx%d with %d luma bytes", fr.W, fr.H, len(fr.Y))
			}
		}
	})
}

func BenchmarkDraw12Tiles(b *testing.B) {
	dst := NewFrame(1280, 720)
	src := solid(640, 360, RGB(10, 200, 30))
	tiles := layout.Compute(layout.FromRTAPI(nil), 1280, 720, make12())
	var s Scaler
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range tiles {
			Draw(dst, src, t.Rect, t.Fill, Black, &s)
		}
	}
}

func make12() []layout.Participant {
	ps := make([]layout.Participant, 12)
	for i := range ps {
		ps[i] = layout.Participant{ID: fmt.Sprint(i), Joined: int64(i)}
	}
	return ps
}

// FuzzDraw: any tile (even outside the canvas) and any source size draws
// without panicking and never writes outside the tile.
func FuzzDraw(f *testing.F) {
	f.Add(uint8(32), uint8(18), int16(4), int16(4), int16(20), int16(10), uint8(0))
	f.Add(uint8(2), uint8(200), int16(-10), int16(30), int16(100), int16(3), uint8(1))
	f.Fuzz(func(t *testing.T, sw, sh uint8, x, y, w, h int16, fill uint8) {
		dst := solid(64, 36, Black)
		src := solid(max(2, int(sw)), max(2, int(sh)), White)
		tile := layout.Rect{X: int(x) &^ 1, Y: int(y) &^ 1, W: int(w) &^ 1, H: int(h) &^ 1}
		Draw(dst, src, tile, layout.Fill(int(fill)%3), RGB(0, 255, 0), nil)
		for py := range dst.H {
			for px := range dst.W {
				in := px >= tile.X && px < tile.X+tile.W && py >= tile.Y && py < tile.Y+tile.H
				if !in && dst.Y[py*dst.W+px] != Black.Y {
					t.Fatalf("pixel (%d,%d) outside tile %+v written", px, py, tile)
				}
			}
		}
	})
}

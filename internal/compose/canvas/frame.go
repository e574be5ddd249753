package canvas

import "github.com/stagecast/stagecast/internal/compose/layout"

// Frame is a planar yuv420p picture with tight strides: Y is W*H bytes, U
// and V are (W/2)*(H/2). W and H are even.
type Frame struct {
	W, H    int
	Y, U, V []byte
}

// NewFrame returns a black w x h frame (w and h rounded down to even).
func NewFrame(w, h int) *Frame {
	w, h = w&^1, h&^1
	f := &Frame{W: w, H: h, Y: make([]byte, w*h), U: make([]byte, w*h/4), V: make([]byte, w*h/4)}
	f.Fill(Black)
	return f
}

// Size returns the byte length of a w x h yuv420p frame.
func Size(w, h int) int { return w*h + 2*(w/2)*(h/2) }

// Color is a YUV (BT.601 limited range) colour.
type Color struct{ Y, U, V byte }

// Colours.
var (
	Black = Color{16, 128, 128}
	White = Color{235, 128, 128}
)

// RGB converts 8-bit RGB to BT.601 limited-range YUV.
func RGB(r, g, b int) Color {
	y := (66*r+129*g+25*b+128)>>8 + 16
	u := (-38*r-74*g+112*b+128)>>8 + 128
	v := (112*r-94*g-18*b+128)>>8 + 128
	return Color{clamp8(y), clamp8(u), clamp8(v)}
}

func clamp8(v int) byte { return byte(max(0, min(255, v))) }

// Bytes returns the frame as one contiguous yuv420p buffer (Y, U, V).
func (f *Frame) Bytes(buf []byte) []byte {
	buf = append(buf[:0], f.Y...)
	buf = append(buf, f.U...)
	return append(buf, f.V...)
}

// SetBytes points the planes at b, which must hold Size(f.W, f.H) bytes.
func (f *Frame) SetBytes(b []byte) {
	ys, cs := f.W*f.H, (f.W/2)*(f.H/2)
	f.Y, f.U, f.V = b[:ys:ys], b[ys:ys+cs:ys+cs], b[ys+cs:ys+2*cs:ys+2*cs]
}

// Fill paints the whole frame.
func (f *Frame) Fill(c Color) { f.FillRect(layout.Rect{W: f.W, H: f.H}, c) }

// FillRect paints r (clipped to the frame).
func (f *Frame) FillRect(r layout.Rect, c Color) {
	r = clip(r, f.W, f.H)
	if r.W <= 0 || r.H <= 0 {
		return
	}
	for y := r.Y; y < r.Y+r.H; y++ {
		fillRow(f.Y[y*f.W+r.X:y*f.W+r.X+r.W], c.Y)
	}
	cw := f.W / 2
	for y := r.Y / 2; y < (r.Y+r.H+1)/2; y++ {
		fillRow(f.U[y*cw+r.X/2:y*cw+(r.X+r.W+1)/2], c.U)
		fillRow(f.V[y*cw+r.X/2:y*cw+(r.X+r.W+1)/2], c.V)
	}
}

func fillRow(b []byte, v byte) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// At returns the colour at (x, y).
func (f *Frame) At(x, y int) Color {
	cw := f.W / 2
	return Color{f.Y[y*f.W+x], f.U[(y/2)*cw+x/2], f.V[(y/2)*cw+x/2]}
}

func clip(r layout.Rect, w, h int) layout.Rect {
	x0, y0 := max(r.X, 0), max(r.Y, 0)
	x1, y1 := min(r.X+r.W, w), min(r.Y+r.H, h)
	return layout.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// Placement computes, for a src-sized picture drawn into tile with fill,
// the source crop and the destination rectangle (inside tile).
func Placement(srcW, srcH int, tile layout.Rect, fill layout.Fill) (crop, dst layout.Rect) {
	crop = layout.Rect{W: srcW, H: srcH}
	dst = tile
	if srcW <= 0 || srcH <= 0 || tile.W <= 0 || tile.H <= 0 {
		return crop, layout.Rect{}
	}
	switch fill {
	case layout.Cover:
		// Crop the source to the tile's aspect ratio.
		if srcW*tile.H > tile.W*srcH { // source wider
			cw := srcH * tile.W / tile.H
			crop = layout.Rect{X: ((srcW - cw) / 2) &^ 1, W: cw, H: srcH}
		} else {
			ch := srcW * tile.H / tile.W
			crop = layout.Rect{Y: ((srcH - ch) / 2) &^ 1, W: srcW, H: ch}
		}
	case layout.Contain:
		if srcW*tile.H > tile.W*srcH { // source wider: bars top and bottom
			h := (tile.W * srcH / srcW) &^ 1
			dst = layout.Rect{X: tile.X, Y: tile.Y + ((tile.H-h)/2)&^1, W: tile.W, H: h}
		} else {
			w := (tile.H * srcW / srcH) &^ 1
			dst = layout.Rect{X: tile.X + ((tile.W-w)/2)&^1, Y: tile.Y, W: w, H: tile.H}
		}
	}
	return crop, dst
}

// Draw draws src into tile of dst with fill; the parts of tile that the
// picture does not cover (CONTAIN) are painted bg. The scaler is bilinear;
// same-size copies are row copies.
func Draw(dst, src *Frame, tile layout.Rect, fill layout.Fill, bg Color, s *Scaler) {
	tile = clip(tile, dst.W, dst.H)
	if tile.W <= 0 || tile.H <= 0 {
		return
	}
	if src == nil || src.W <= 0 || src.H <= 0 {
		dst.FillRect(tile, bg)
		return
	}
	crop, d := Placement(src.W, src.H, tile, fill)
	if d != tile {
		dst.FillRect(tile, bg)
	}
	if d.W < 2 || d.H < 2 {
		return
	}
	if s == nil {
		s = &Scaler{}
	}
	s.plane(dst.Y, dst.W, d, src.Y, src.W, crop)
	dc := layout.Rect{X: d.X / 2, Y: d.Y / 2, W: d.W / 2, H: d.H / 2}
	sc := layout.Rect{X: crop.X / 2, Y: crop.Y / 2, W: max(1, crop.W/2), H: max(1, crop.H/2)}
	s.plane(dst.U, dst.W/2, dc, src.U, src.W/2, sc)
	s.plane(dst.V, dst.W/2, dc, src.V, src.W/2, sc)
}

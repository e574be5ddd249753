package canvas

import "github.com/stagecast/stagecast/internal/compose/layout"

// fracBits is the fixed-point precision of the bilinear weights.
const fracBits = 8

// Scaler holds reusable per-column tables; the zero value is ready. One
// Scaler must not be used by two goroutines at once.
type Scaler struct {
	xi []int32 // source column (left sample) per destination column
	xf []int32 // weight of the right sample, 0..1<<fracBits
}

// plane scales the sr region of src (stride ss) into the dr region of dst
// (stride ds).
func (s *Scaler) plane(dst []byte, ds int, dr layout.Rect, src []byte, ss int, sr layout.Rect) {
	if dr.W <= 0 || dr.H <= 0 || sr.W <= 0 || sr.H <= 0 {
		return
	}
	if dr.W == sr.W && dr.H == sr.H {
		for y := range dr.H {
			copy(dst[(dr.Y+y)*ds+dr.X:(dr.Y+y)*ds+dr.X+dr.W], src[(sr.Y+y)*ss+sr.X:])
		}
		return
	}
	s.xi, s.xf = s.xi[:0], s.xf[:0]
	one := int64(1) << fracBits
	for x := range dr.W {
		// Centre-aligned mapping, 16.8 fixed point.
		p := (int64(2*x+1)*int64(sr.W)*one)/int64(2*dr.W) - one/2
		p = max(0, p)
		i := p >> fracBits
		f := p & (one - 1)
		if i >= int64(sr.W-1) {
			i, f = int64(sr.W-1), 0
		}
		s.xi = append(s.xi, int32(sr.X)+int32(i))
		s.xf = append(s.xf, int32(f))
	}
	for y := range dr.H {
		p := (int64(2*y+1)*int64(sr.H)*one)/int64(2*dr.H) - one/2
		p = max(0, p)
		i := p >> fracBits
		fy := int32(p & (one - 1))
		if i >= int64(sr.H-1) {
			i, fy = int64(sr.H-1), 0
		}
		r0 := src[(sr.Y+int(i))*ss:]
		r1 := r0
		if fy > 0 {
			r1 = src[(sr.Y+int(i)+1)*ss:]
		}
		out := dst[(dr.Y+y)*ds+dr.X : (dr.Y+y)*ds+dr.X+dr.W]
		xi, xf := s.xi[:len(out)], s.xf[:len(out)]
		for x := range out {
			c := xi[x]
			f := xf[x]
			a, b := int32(r0[c]), int32(r1[c])
			if f > 0 {
				a = (a<<fracBits + (int32(r0[c+1])-a)*f) >> fracBits
				b = (b<<fracBits + (int32(r1[c+1])-b)*f) >> fracBits
			}
			out[x] = byte((a<<fracBits + (b-a)*fy) >> fracBits)
		}
	}
}

package layout

import (
	"fmt"
	"testing"

	"github.com/stagecast/stagecast/internal/model/rtapi"
)

func parts(n int) []Participant {
	ps := make([]Participant, n)
	for i := range ps {
		// Joined in reverse of the slice order: the layout must sort.
		ps[i] = Participant{ID: fmt.Sprintf("p%02d", i), Joined: int64(i)}
	}
	return ps
}

func rects(ts []Tile) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%s %d,%d %dx%d %s", t.ParticipantID, t.X, t.Y, t.W, t.H, t.Fill)
	}
	return out
}

func eq(t *testing.T, got []Tile, want ...string) {
	t.Helper()
	g := rects(got)
	if len(g) != len(want) {
		t.Fatalf("got %d tiles %q, want %q", len(g), g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("tile %d = %q, want %q", i, g[i], want[i])
		}
	}
}

func str(s string) *string { return &s }
func i64(v int64) *int64   { return &v }

func TestGridDefaults(t *testing.T) {
	c := FromRTAPI(nil) // VIDEO, gap 2
	cases := []struct {
		n    int
		want []string
	}{
		{1, []string{"p00 0,0 1280x720 COVER"}},
		{2, []string{"p00 0,180 638x358 COVER", "p01 640,180 638x358 COVER"}},
		{3, []string{"p00 0,0 638x358 COVER", "p01 640,0 638x358 COVER", "p02 320,360 638x358 COVER"}},
		{4, []string{"p00 0,0 638x358 COVER", "p01 640,0 638x358 COVER", "p02 0,360 638x358 COVER", "p03 640,360 638x358 COVER"}},
		{12, []string{
			"p00 0,90 318x178 COVER", "p01 320,90 318x178 COVER", "p02 640,90 318x178 COVER", "p03 960,90 318x178 COVER",
			"p04 0,270 318x178 COVER", "p05 320,270 318x178 COVER", "p06 640,270 318x178 COVER", "p07 960,270 318x178 COVER",
			"p08 0,450 318x178 COVER", "p09 320,450 318x178 COVER", "p10 640,450 318x178 COVER", "p11 960,450 318x178 COVER",
		}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) {
			ps := parts(tc.n)
			// Reverse the input: join order, not slice order, decides.
			for i, j := 0, len(ps)-1; i < j; i, j = i+1, j-1 {
				ps[i], ps[j] = ps[j], ps[i]
			}
			eq(t, Compute(c, 1280, 720, ps), tc.want...)
		})
	}
}

// TestGridInvariants checks every count and aspect ratio: tiles inside the
// canvas, no overlap, gap respected, even coordinates, requested aspect.
func TestGridInvariants(t *testing.T) {
	for _, ar := range []string{"VIDEO", "SQUARE", "PORTRAIT", "AUTO"} {
		for _, gap := range []int64{0, 2, 10} {
			for n := 1; n <= 12; n++ {
				for _, wh := range [][2]int{{1280, 720}, {720, 1280}, {1920, 1080}} {
					c := FromRTAPI(&rtapi.LayoutConfiguration{Grid: &rtapi.GridConfiguration{VideoAspectRatio: str(ar), GridGap: i64(gap)}})
					ts := Compute(c, wh[0], wh[1], parts(n))
					if len(ts) != n {
						t.Fatalf("%s gap %d n %d: %d tiles", ar, gap, n, len(ts))
					}
					for i, a := range ts {
						if a.X < 0 || a.Y < 0 || a.X+a.W > wh[0] || a.Y+a.H > wh[1] || a.W <= 0 || a.H <= 0 {
							t.Fatalf("%s n %d: tile %v outside %v", ar, n, a, wh)
						}
						if a.X%2 != 0 || a.Y%2 != 0 || a.W%2 != 0 || a.H%2 != 0 {
							t.Fatalf("%s n %d: tile %v not even", ar, n, a)
						}
						if ar == "SQUARE" && abs(a.W-a.H) > 2 {
							t.Fatalf("square tile %v", a)
						}
						if ar == "PORTRAIT" && abs(a.W*4-a.H*3) > 8 {
							t.Fatalf("portrait tile %v", a)
						}
						for _, b := range ts[i+1:] {
							if a.X < b.X+b.W+int(gap)-1 && b.X < a.X+a.W+int(gap)-1 && a.Y < b.Y+b.H+int(gap)-1 && b.Y < a.Y+a.H+int(gap)-1 {
								t.Fatalf("%s gap %d n %d: tiles %v and %v closer than the gap", ar, gap, n, a, b)
							}
						}
					}
				}
			}
		}
	}
}

func abs(v int) int { return max(v, -v) }

func TestGridFeaturedAndOmit(t *testing.T) {
	c := FromRTAPI(&rtapi.LayoutConfiguration{Grid: &rtapi.GridConfiguration{
		FeaturedParticipantAttribute: str("isFeatured"), OmitStoppedVideo: new(true)}})
	ps := parts(4)
	ps[2].Attributes = map[string]string{"isFeatured": "true"}
	ps[1].VideoStopped = true
	ts := Compute(c, 1280, 720, ps)
	// Featured: left two thirds, CONTAIN; p00 and p03 share the right third;
	// p01 (stopped video) is omitted.
	eq(t, ts, "p02 0,0 852x720 CONTAIN", "p00 854,120 426x238 COVER", "p03 854,360 426x238 COVER")

	c.OmitStoppedVideo = false
	if got := Compute(c, 1280, 720, ps); len(got) != 4 {
		t.Fatalf("stopped video kept: %q", rects(got))
	}
	// Featured alone: whole canvas.
	eq(t, Compute(c, 1280, 720, ps[2:3]), "p02 0,0 1280x720 CONTAIN")
	// Explicit fill mode overrides both defaults.
	f := Stretch
	c.FillMode = &f
	for _, tl := range Compute(c, 1280, 720, ps) {
		if tl.Fill != Stretch {
			t.Fatalf("fill %v", tl.Fill)
		}
	}
}

func TestOrderAttribute(t *testing.T) {
	c := FromRTAPI(&rtapi.LayoutConfiguration{Grid: &rtapi.GridConfiguration{ParticipantOrderAttribute: str("slot")}})
	ps := parts(3)
	ps[0].Attributes = map[string]string{"slot": "9"}
	ps[2].Attributes = map[string]string{"slot": "1"}
	got := Order(c, ps)
	if got[0].ID != "p02" || got[1].ID != "p00" || got[2].ID != "p01" {
		t.Fatalf("order %v", got)
	}
}

func TestPip(t *testing.T) {
	base := func(pos string, beh string) Config {
		return FromRTAPI(&rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{
			PipParticipantAttribute: str("isPip"), PipPosition: str(pos), PipBehavior: str(beh),
			PipOffset: i64(10), PipWidth: i64(320), GridGap: i64(0)}})
	}
	ps := parts(2)
	ps[0].Attributes = map[string]string{"isPip": "true"}
	cases := []struct{ pos, want string }{
		{"TOP_LEFT", "p00 10,10 320x180 COVER"},
		{"TOP_RIGHT", "p00 950,10 320x180 COVER"},
		{"BOTTOM_LEFT", "p00 10,530 320x180 COVER"},
		{"BOTTOM_RIGHT", "p00 950,530 320x180 COVER"},
	}
	for _, tc := range cases {
		eq(t, Compute(base(tc.pos, "STATIC"), 1280, 720, ps), "p01 0,0 1280x720 COVER", tc.want)
	}
	// Alone: STATIC keeps the window, DYNAMIC takes the canvas.
	eq(t, Compute(base("TOP_LEFT", "STATIC"), 1280, 720, ps[:1]), "p00 10,10 320x180 COVER")
	eq(t, Compute(base("TOP_LEFT", "DYNAMIC"), 1280, 720, ps[:1]), "p00 0,0 1280x720 COVER")
	// No pip attribute: the second participant is the pip, default size
	// a quarter of the width, bottom right.
	d := FromRTAPI(&rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{}})
	eq(t, Compute(d, 1280, 720, parts(2)), "p00 0,0 1280x720 COVER", "p01 960,540 320x180 COVER")
	// Three participants: two share the background, pip on top.
	eq(t, Compute(d, 1280, 720, parts(3)), "p00 0,0 640x720 COVER", "p02 640,0 640x720 COVER", "p01 960,540 320x180 COVER")
	// Featured participant in the background with pip.
	ps3 := parts(3)
	ps3[2].Attributes = map[string]string{"feat": "true"}
	d.FeaturedAttribute = "feat"
	eq(t, Compute(d, 1280, 720, ps3), "p02 0,0 852x720 COVER", "p00 852,0 428x720 COVER", "p01 960,540 320x180 COVER")
	// Only pipHeight: width from the canvas aspect ratio.
	h := FromRTAPI(&rtapi.LayoutConfiguration{Pip: &rtapi.PipConfiguration{PipHeight: i64(360)}})
	eq(t, Compute(h, 1280, 720, parts(2)), "p00 0,0 1280x720 COVER", "p01 640,360 640x360 COVER")
}

func TestEmpty(t *testing.T) {
	if ts := Compute(FromRTAPI(nil), 1280, 720, nil); ts != nil {
		t.Fatal(ts)
	}
	c := FromRTAPI(nil)
	c.OmitStoppedVideo = true
	if ts := Compute(c, 1280, 720, []Participant{{ID: "a", VideoStopped: true}}); ts != nil {
		t.Fatal(ts)
	}
}

// FuzzCompute checks that any configuration and canvas gives tiles inside
// the canvas, at most one per participant, with even coordinates.
func FuzzCompute(f *testing.F) {
	f.Add(uint8(3), uint16(1280), uint16(720), uint8(2), uint8(0), false, uint16(0), uint16(0), uint8(0), true)
	f.Add(uint8(12), uint16(2), uint16(1920), uint8(200), uint8(3), true, uint16(5000), uint16(1), uint8(3), false)
	f.Fuzz(func(t *testing.T, n uint8, w, h uint16, gap, ar uint8, pip bool, pw, ph uint16, pos uint8, feat bool) {
		n %= 13
		cw, chh := int(w%1922), int(h%1922)
		aspects := []string{"VIDEO", "SQUARE", "PORTRAIT", "AUTO"}
		positions := []string{"TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_RIGHT"}
		c := Config{Gap: int(gap), AspectRatio: aspects[int(ar)%4], FeaturedAttribute: "f", PipAttribute: "p",
			PipPosition: positions[int(pos)%4], PipWidth: int(pw), PipHeight: int(ph), PipOffset: int(gap)}
		if pip {
			c.Kind = Pip
		}
		ps := parts(int(n))
		if feat && n > 1 {
			ps[1].Attributes = map[string]string{"f": "true", "p": "true"}
		}
		tiles := Compute(c, cw, chh, ps)
		if len(tiles) > int(n) {
			t.Fatalf("%d tiles for %d participants", len(tiles), n)
		}
		seen := map[string]bool{}
		for _, tl := range tiles {
			if seen[tl.ParticipantID] {
				t.Fatalf("participant %s drawn twice", tl.ParticipantID)
			}
			seen[tl.ParticipantID] = true
			if tl.X < 0 || tl.Y < 0 || tl.W < 0 || tl.H < 0 || tl.X+tl.W > cw || tl.Y+tl.H > chh {
				t.Fatalf("tile %+v outside %dx%d (config %+v)", tl, cw, chh, c)
			}
			if tl.X%2 != 0 || tl.Y%2 != 0 {
				t.Fatalf("tile %+v not aligned", tl)
			}
		}
	})
}

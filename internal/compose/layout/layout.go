package layout

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// Fill is how a participant's video fits its tile.
type Fill int

// Fill modes (IVS videoFillMode).
const (
	// Cover scales to cover the tile and crops the overflow.
	Cover Fill = iota
	// Contain scales to fit inside the tile and letterboxes.
	Contain
	// Stretch scales both axes to the tile (IVS FILL).
	Stretch
)

func (f Fill) String() string {
	switch f {
	case Contain:
		return "CONTAIN"
	case Stretch:
		return "FILL"
	}
	return "COVER"
}

// Kind is the layout type.
type Kind int

// Layout kinds.
const (
	Grid Kind = iota
	Pip
)

// Config is a layout configuration with IVS defaults applied.
type Config struct {
	Kind              Kind
	FeaturedAttribute string
	OrderAttribute    string
	OmitStoppedVideo  bool
	// AspectRatio is AUTO, VIDEO, SQUARE or PORTRAIT (grid only).
	AspectRatio string
	// FillMode is the configured videoFillMode; nil means the default
	// (grid: COVER for tiles, CONTAIN for the featured slot; pip: COVER).
	FillMode *Fill
	Gap      int

	PipAttribute string
	// PipDynamic is pipBehavior DYNAMIC.
	PipDynamic bool
	// PipPosition is TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT or BOTTOM_RIGHT.
	PipPosition         string
	PipOffset           int
	PipWidth, PipHeight int // 0 = derived
}

// Participant is one stage participant as the layout sees it.
type Participant struct {
	ID         string
	Attributes map[string]string
	// VideoStopped is true when the participant publishes no video (or
	// stopped it).
	VideoStopped bool
	// Joined orders participants by arrival (lower first).
	Joined int64
}

// Rect is a rectangle in canvas pixels.
type Rect struct{ X, Y, W, H int }

// Tile is where one participant is drawn. Tiles are returned in drawing
// order (the pip last).
type Tile struct {
	ParticipantID string
	Rect
	Fill Fill
}

// FromRTAPI converts an API layout (defaults applied or not).
func FromRTAPI(l *rtapi.LayoutConfiguration) Config {
	c := Config{Kind: Grid, AspectRatio: rtapi.VideoAspectRatioVideo, Gap: 2, PipPosition: rtapi.PipPositionBottomRight}
	if l != nil && l.Pip != nil {
		p := l.Pip
		c.Kind, c.Gap = Pip, 0
		c.FeaturedAttribute = deref(p.FeaturedParticipantAttribute)
		c.OrderAttribute = deref(p.ParticipantOrderAttribute)
		c.OmitStoppedVideo = deref(p.OmitStoppedVideo)
		c.FillMode = fillOf(p.VideoFillMode)
		if p.GridGap != nil {
			c.Gap = int(*p.GridGap)
		}
		c.PipAttribute = deref(p.PipParticipantAttribute)
		c.PipDynamic = deref(p.PipBehavior) == rtapi.PipBehaviorDynamic
		if v := deref(p.PipPosition); v != "" {
			c.PipPosition = v
		}
		c.PipOffset = int(deref(p.PipOffset))
		c.PipWidth = int(deref(p.PipWidth))
		c.PipHeight = int(deref(p.PipHeight))
		return c
	}
	if l != nil && l.Grid != nil {
		g := l.Grid
		c.FeaturedAttribute = deref(g.FeaturedParticipantAttribute)
		c.OrderAttribute = deref(g.ParticipantOrderAttribute)
		c.OmitStoppedVideo = deref(g.OmitStoppedVideo)
		if v := deref(g.VideoAspectRatio); v != "" {
			c.AspectRatio = v
		}
		c.FillMode = fillOf(g.VideoFillMode)
		if g.GridGap != nil {
			c.Gap = int(*g.GridGap)
		}
	}
	return c
}

func fillOf(s *string) *Fill {
	if s == nil || *s == "" {
		return nil
	}
	f := Cover
	switch *s {
	case rtapi.VideoFillModeContain:
		f = Contain
	case rtapi.VideoFillModeFill:
		f = Stretch
	}
	return &f
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// Order returns the participants in layout order: numeric
// OrderAttribute values first (ascending), then join order, then ID.
func Order(c Config, ps []Participant) []Participant {
	out := slices.Clone(ps)
	key := func(p Participant) (float64, bool) {
		if c.OrderAttribute == "" {
			return 0, false
		}
		v, err := strconv.ParseFloat(p.Attributes[c.OrderAttribute], 64)
		return v, err == nil
	}
	slices.SortStableFunc(out, func(a, b Participant) int {
		ka, oka := key(a)
		kb, okb := key(b)
		if oka != okb {
			if oka {
				return -1
			}
			return 1
		}
		if oka {
			if r := cmp.Compare(ka, kb); r != 0 {
				return r
			}
		}
		if r := cmp.Compare(a.Joined, b.Joined); r != 0 {
			return r
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Compute lays participants out on a w x h canvas.
func Compute(c Config, w, h int, ps []Participant) []Tile {
	ordered := Order(c, ps)
	visible := ordered[:0:0]
	for _, p := range ordered {
		if c.OmitStoppedVideo && p.VideoStopped {
			continue
		}
		visible = append(visible, p)
	}
	w, h = even(w), even(h) // 4:2:0 canvases are even
	if len(visible) == 0 || w < 2 || h < 2 {
		return nil
	}
	if c.Kind == Pip {
		return pip(c, w, h, visible)
	}
	return featuredGrid(c, Rect{0, 0, w, h}, visible)
}

func flagged(p Participant, attr string) bool {
	return attr != "" && p.Attributes[attr] == "true"
}

// featuredGrid splits area into the featured slot and a grid of the rest.
func featuredGrid(c Config, area Rect, ps []Participant) []Tile {
	tileFill := Cover
	featFill := Contain
	if c.Kind == Pip {
		featFill = Cover
	}
	if c.FillMode != nil {
		tileFill, featFill = *c.FillMode, *c.FillMode
	}
	fi := -1
	for i, p := range ps {
		if flagged(p, c.FeaturedAttribute) {
			fi = i
			break
		}
	}
	if fi < 0 {
		return grid(c, area, ps, tileFill)
	}
	feat := ps[fi]
	rest := slices.Delete(slices.Clone(ps), fi, fi+1)
	if len(rest) == 0 {
		return []Tile{{ParticipantID: feat.ID, Rect: area, Fill: featFill}}
	}
	f, o := area, area
	if area.W >= area.H {
		gap := min(c.Gap, area.W/4) // an absurd gap must not swallow the slot
		f.W = even((area.W - gap) * 2 / 3)
		o.X, o.W = area.X+f.W+gap, area.W-f.W-gap
	} else {
		gap := min(c.Gap, area.H/4)
		f.H = even((area.H - gap) * 2 / 3)
		o.Y, o.H = area.Y+f.H+gap, area.H-f.H-gap
	}
	return append([]Tile{{ParticipantID: feat.ID, Rect: f, Fill: featFill}}, grid(c, o, rest, tileFill)...)
}

// aspect returns the tile aspect ratio as num/den, or 0/0 for AUTO.
func aspect(c Config) (int, int) {
	switch c.AspectRatio {
	case rtapi.VideoAspectRatioSquare:
		return 1, 1
	case rtapi.VideoAspectRatioPortrait:
		return 3, 4
	case rtapi.VideoAspectRatioAuto:
		return 0, 0
	}
	return 16, 9
}

// grid packs ps into area with tiles of the configured aspect ratio.
func grid(c Config, area Rect, ps []Participant, fill Fill) []Tile {
	n := len(ps)
	gap := c.Gap
	an, ad := aspect(c)
	if c.Kind == Pip {
		an, ad = 0, 0 // pip backgrounds fill their cells
	}
	bestCols, bestW, bestH, bestArea := 1, 0, 0, -1
	for cols := 1; cols <= n; cols++ {
		rows := (n + cols - 1) / cols
		cw := (area.W - (cols-1)*gap) / cols
		ch := (area.H - (rows-1)*gap) / rows
		if cw <= 0 || ch <= 0 {
			continue
		}
		tw, th := cw, ch
		score := 0
		if an > 0 {
			if tw*ad > th*an {
				tw = th * an / ad
			} else {
				th = tw * ad / an
			}
			score = tw * th
		} else {
			// AUTO: cells closest to 16:9 win (least cropping of camera
			// video), then the largest.
			tw16 := min(cw, ch*16/9)
			score = tw16 * (tw16 * 9 / 16)
		}
		// Ties go to more columns on a landscape area.
		if score > bestArea || (score == bestArea && area.W >= area.H) {
			bestCols, bestW, bestH, bestArea = cols, tw, th, score
		}
	}
	if bestArea <= 0 {
		return nil
	}
	cols := bestCols
	rows := (n + cols - 1) / cols
	tw, th := even(bestW), even(bestH)
	blockH := rows*th + (rows-1)*gap
	y0 := area.Y + (area.H-blockH)/2
	tiles := make([]Tile, 0, n)
	for r := range rows {
		inRow := min(cols, n-r*cols)
		rowW := inRow*tw + (inRow-1)*gap
		x0 := area.X + (area.W-rowW)/2
		for i := range inRow {
			p := ps[r*cols+i]
			tiles = append(tiles, Tile{ParticipantID: p.ID, Fill: fill,
				Rect: Rect{X: even(x0 + i*(tw+gap)), Y: even(y0 + r*(th+gap)), W: tw, H: th}})
		}
	}
	return tiles
}

// even rounds down to an even number (4:2:0 chroma alignment).
func even(v int) int { return v &^ 1 }

func pip(c Config, w, h int, ps []Participant) []Tile {
	pi := -1
	for i, p := range ps {
		if flagged(p, c.PipAttribute) {
			pi = i
			break
		}
	}
	if pi < 0 && len(ps) >= 2 {
		pi = 1
	}
	fill := Cover
	if c.FillMode != nil {
		fill = *c.FillMode
	}
	canvas := Rect{0, 0, w, h}
	if pi < 0 {
		return featuredGrid(c, canvas, ps)
	}
	pp := ps[pi]
	rest := slices.Delete(slices.Clone(ps), pi, pi+1)
	if len(rest) == 0 && c.PipDynamic {
		return []Tile{{ParticipantID: pp.ID, Rect: canvas, Fill: fill}}
	}
	pw, ph := c.PipWidth, c.PipHeight
	switch {
	case pw <= 0 && ph <= 0:
		pw = w / 4
		ph = pw * h / w
	case pw <= 0:
		pw = ph * w / h
	case ph <= 0:
		ph = pw * h / w
	}
	pw, ph = max(2, even(min(pw, w))), max(2, even(min(ph, h)))
	off := c.PipOffset
	r := Rect{W: pw, H: ph}
	switch c.PipPosition {
	case rtapi.PipPositionTopLeft:
		r.X, r.Y = off, off
	case rtapi.PipPositionTopRight:
		r.X, r.Y = w-pw-off, off
	case rtapi.PipPositionBottomLeft:
		r.X, r.Y = off, h-ph-off
	default:
		r.X, r.Y = w-pw-off, h-ph-off
	}
	r.X = even(max(0, min(r.X, w-pw)))
	r.Y = even(max(0, min(r.Y, h-ph)))
	var tiles []Tile
	if len(rest) > 0 {
		tiles = featuredGrid(c, canvas, rest)
	}
	return append(tiles, Tile{ParticipantID: pp.ID, Rect: r, Fill: fill})
}

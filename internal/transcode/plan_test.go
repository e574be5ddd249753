package transcode

import (
	"slices"
	"testing"
)

func names(plan []Rendition) []string {
	var out []string
	for _, r := range plan {
		n := r.Name
		if r.Passthrough {
			n += "(src)"
		}
		out = append(out, n)
	}
	return out
}

func TestPlanLadders(t *testing.T) {
	hd1080p60 := Source{Width: 1920, Height: 1080, FPS: 60, HasVideo: true}
	hd1080p30 := Source{Width: 1920, Height: 1080, FPS: 30, HasVideo: true}
	hd720p30 := Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true}
	sd480 := Source{Width: 854, Height: 480, FPS: 29.97, HasVideo: true}
	tiny := Source{Width: 256, Height: 144, FPS: 15, HasVideo: true}
	cases := []struct {
		name, typ, preset string
		src               Source
		want              []string
	}{
		{"basic passes the source through", TypeBasic, "", hd1080p30, []string{"1080p30(src)"}},
		{"standard 1080p60 adds 720p60 and the SD rungs", TypeStandard, "", hd1080p60,
			[]string{"1080p60(src)", "720p60", "480p30", "360p30", "160p30"}},
		{"standard 1080p30", TypeStandard, "", hd1080p30, []string{"1080p30(src)", "720p30", "480p30", "360p30", "160p30"}},
		{"standard 720p never upscales", TypeStandard, "", hd720p30, []string{"720p30(src)", "480p30", "360p30", "160p30"}},
		{"empty type is STANDARD", "", "", hd720p30, []string{"720p30(src)", "480p30", "360p30", "160p30"}},
		{"standard 480p", TypeStandard, "", sd480, []string{"480p30(src)", "360p30", "160p30"}},
		{"advanced HD caps at 720p", TypeAdvancedHD, "", hd1080p60, []string{"720p60", "480p30", "360p30", "160p30"}},
		{"advanced HD constrained", TypeAdvancedHD, PresetConstrained, hd1080p30, []string{"720p30", "480p30", "360p30", "160p30"}},
		{"advanced HD from 480p", TypeAdvancedHD, PresetHigher, sd480, []string{"480p30", "360p30", "160p30"}},
		{"advanced SD caps at 480p", TypeAdvancedSD, "", hd1080p30, []string{"480p30", "360p30", "160p30"}},
		{"advanced SD from a tiny source keeps its size", TypeAdvancedSD, PresetConstrained, tiny, []string{"144p15"}},
		{"audio only", TypeStandard, "", Source{}, []string{"audio_only(src)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := Plan(c.typ, c.preset, c.src)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(plan); !slices.Equal(got, c.want) {
				t.Fatalf("plan %v, want %v", got, c.want)
			}
			for _, r := range plan {
				if r.Height > c.src.Height || r.Width > c.src.Width {
					t.Errorf("%s %dx%d upscales the %dx%d source", r.Name, r.Width, r.Height, c.src.Width, c.src.Height)
				}
				if r.Passthrough {
					continue
				}
				if r.Width%2 != 0 || r.Height%2 != 0 || r.VideoBitrate <= 0 || r.Level == "" || r.Profile == "" {
					t.Errorf("bad rendition %+v", r)
				}
			}
		})
	}
}

func TestPlanDetails(t *testing.T) {
	plan, err := Plan(TypeStandard, "", Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []Rendition{
		{Name: "720p30", Passthrough: true, Width: 1280, Height: 720, FPS: 30},
		{Name: "480p30", Width: 854, Height: 480, FPS: 30, VideoBitrate: 1200_000, AudioBitrate: 0, Profile: "main", Level: "3.1"},
		{Name: "360p30", Width: 640, Height: 360, FPS: 30, VideoBitrate: 630_000, AudioBitrate: 96_000, Profile: "main", Level: "3.0"},
		{Name: "160p30", Width: 284, Height: 160, FPS: 30, VideoBitrate: 230_000, AudioBitrate: 64_000, Profile: "main", Level: "3.0"},
	}
	if !slices.Equal(plan, want) {
		t.Fatalf("plan\n%+v\nwant\n%+v", plan, want)
	}
	// Constrained is below STANDARD, higher above it, rung by rung.
	src := Source{Width: 1920, Height: 1080, FPS: 30, HasVideo: true}
	std, _ := Plan(TypeStandard, "", src)
	hi, _ := Plan(TypeAdvancedHD, PresetHigher, src)
	lo, _ := Plan(TypeAdvancedHD, PresetConstrained, src)
	for i := range hi {
		s := std[i+1]
		if s.Name != hi[i].Name || s.Name != lo[i].Name {
			t.Fatalf("rung %d: %s %s %s", i, s.Name, hi[i].Name, lo[i].Name)
		}
		if !(lo[i].VideoBitrate < s.VideoBitrate && s.VideoBitrate < hi[i].VideoBitrate) {
			t.Errorf("%s bitrates constrained %d standard %d higher %d", s.Name, lo[i].VideoBitrate, s.VideoBitrate, hi[i].VideoBitrate)
		}
	}
	if got := Transcoded(plan); len(got) != 3 || got[0].Name != "480p30" {
		t.Fatalf("Transcoded %v", names(got))
	}
}

func TestPlanRejectsUnknown(t *testing.T) {
	src := Source{Width: 1280, Height: 720, HasVideo: true}
	if _, err := Plan("PREMIUM", "", src); err == nil {
		t.Error("unknown type accepted")
	}
	if _, err := Plan(TypeAdvancedSD, "FAST", src); err == nil {
		t.Error("unknown preset accepted")
	}
}

func TestThumbnailHeight(t *testing.T) {
	cases := []struct {
		res  string
		src  int
		want int
		err  bool
	}{
		{"", 720, 720, false},
		{"SD", 1080, 480, false},
		{"HD", 1080, 720, false},
		{"FULL_HD", 720, 720, false},
		{"LOWEST_RESOLUTION", 1080, 160, false},
		{"4K", 1080, 0, true},
	}
	for _, c := range cases {
		got, err := ThumbnailHeight(c.res, c.src)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ThumbnailHeight(%q, %d) = %d, %v; want %d", c.res, c.src, got, err, c.want)
		}
	}
}

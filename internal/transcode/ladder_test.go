package transcode

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stagecast/stagecast/internal/media"
	"github.com/stagecast/stagecast/internal/stream"
)

func TestLadderArgs(t *testing.T) {
	plan, err := Plan(TypeStandard, "", Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(ladderArgs(testCfg(), plan, true), " ")
	for _, want := range []string{
		"-copyts -f mpegts -i pipe:0",
		"-filter_complex [0:v:0]split=3[s0][s1][s2];[s0]scale=854:480[v0];[s1]scale=640:360[v1];[s2]scale=284:160[v2]",
		"-map [v0] -map 0:a:0? -c:v libx264 -preset veryfast -tune zerolatency -profile:v main -level:v 3.1",
		"-b:v 1200000 -maxrate 1200000 -bufsize 1200000 -g 300 -keyint_min 1 -sc_threshold 0 -force_key_frames source -forced-idr 1 -c:a copy -f mpegts -muxdelay 0 -muxpreload 0 -flush_packets 1 pipe:3",
		"-c:a aac -b:a 96000 -f mpegts -muxdelay 0 -muxpreload 0 -flush_packets 1 pipe:4",
		"-c:a aac -b:a 64000 -f mpegts -muxdelay 0 -muxpreload 0 -flush_packets 1 pipe:5",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q:\n%s", want, args)
		}
	}
	if one := strings.Join(ladderArgs(testCfg(), plan[:2], false), " "); !strings.Contains(one, "[0:v:0]null[s0];[s0]scale=854:480[v0]") || strings.Contains(one, "0:a") {
		t.Errorf("single rendition without audio: %s", one)
	}
}

func TestLadderRejectsSourceWithoutVideo(t *testing.T) {
	hub := stream.NewHub([]media.Track{{ID: 0, Kind: media.Audio, Codec: media.AAC, ClockRate: 48000}}, nil)
	plan := []Rendition{{Name: "360p30", Width: 640, Height: 360, FPS: 30, VideoBitrate: 1, Profile: "main", Level: "3.0"}}
	if _, err := NewLadder(testCfg(), hub, plan, nil); err == nil {
		t.Fatal("a ladder over an audio-only source must be refused")
	}
}

// TestLadderStandard720p feeds a 720p30 H.264+AAC source through the
// STANDARD ladder, kills the encoder mid-run and checks every rendition:
// size, audio, key frames aligned with the source, and continuity with
// Discontinuity after the restart.
func TestLadderStandard720p(t *testing.T) {
	checkGoroutines(t)
	tracks, units := demuxFile(t, sourceTS(t, 16))
	src := stream.NewHub(tracks, nil)
	plan, err := Plan(TypeStandard, "", Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLadder(testCfg(), src, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	defer wg.Wait()
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- l.Run(ctx) })
	cols := make([]*collector, len(plan))
	for i := range cols {
		cols[i] = &collector{}
	}
	srcReader := l.Hub(0).NewReader("test-source", 4096)
	wg.Go(func() { cols[0].run(srcReader) })
	wg.Go(func() { publish(ctx, src, tracks, units, 1.5) })

	start := time.Now()
	select {
	case <-l.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("ladder not ready after 20 s")
	}
	t.Logf("ready after %v", time.Since(start))
	for i := 1; i < len(plan); i++ {
		r := l.Hub(i).NewReader("test-"+plan[i].Name, 4096)
		wg.Go(func() { cols[i].run(r) })
	}
	waitFor(t, "5 s of 480p video", 30*time.Second, func() bool { return cols[1].count(0) >= 150 })

	t.Logf("killing the encoder after %v", time.Since(start))
	if err := l.Process().Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the encoder restart", 2*time.Second, func() bool { return l.Process().Starts() == 2 })
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("ladder did not end with its source")
	}

	t.Logf("ladder ended after %v", time.Since(start))
	srcUnits := cols[0].snapshot()
	srcKeys := map[int64]bool{}
	srcArrival := map[int64]time.Time{}
	for _, u := range srcUnits {
		if u.Track == 0 {
			srcArrival[u.PTS] = u.Arrival
			if u.Key {
				srcKeys[u.PTS] = true
			}
		}
	}
	dir := t.TempDir()
	var keySets [][]int64
	for i := 1; i < len(plan); i++ {
		r := plan[i]
		all := cols[i].snapshot()
		cut := slices.IndexFunc(all, func(u *media.Unit) bool { return u.Discontinuity })
		if cut <= 0 {
			t.Fatalf("%s: no unit with Discontinuity after the restart (%d units)", r.Name, len(all))
		}
		pre, post := all[:cut], all[cut:]
		if n := countTrack(post, 0); n < 30 {
			t.Fatalf("%s: only %d video units after the restart", r.Name, n)
		}
		lastPre, firstPost := lastVideo(pre), firstVideo(post)
		if !firstPost.Key || firstPost.PTS <= lastPre.PTS || media.Duration(firstPost.PTS-lastPre.PTS, tsClock) > 5*time.Second {
			t.Errorf("%s: after the restart video resumes at %d (key %v), before it ended at %d",
				r.Name, firstPost.PTS, firstPost.Key, lastPre.PTS)
		}
		// Every key frame of every rendition is at a source key frame.
		var keys []int64
		for _, u := range all {
			if u.Track == 0 && u.Key {
				if !srcKeys[u.PTS] {
					t.Errorf("%s: key frame at %d is not at a source key frame", r.Name, u.PTS)
				}
				keys = append(keys, u.PTS)
			}
		}
		keySets = append(keySets, keys)

		path := filepath.Join(dir, r.Name+".ts")
		writeTS(t, path, l.Hub(i).Tracks(), pre)
		p := ffprobe(t, path)
		var gotVideo, gotAudio bool
		for _, s := range p.Streams {
			switch s.CodecType {
			case "video":
				gotVideo = true
				if s.CodecName != "h264" || s.Width != r.Width || s.Height != r.Height {
					t.Errorf("%s: ffprobe video %s %dx%d, want h264 %dx%d", r.Name, s.CodecName, s.Width, s.Height, r.Width, r.Height)
				}
			case "audio":
				gotAudio = s.CodecName == "aac"
			}
		}
		if !gotVideo || !gotAudio {
			t.Errorf("%s: ffprobe found video %v, aac audio %v", r.Name, gotVideo, gotAudio)
		}
		if len(p.keyPTS()) < 2 {
			t.Errorf("%s: ffprobe found %d key frames in %d units before the kill", r.Name, len(p.keyPTS()), len(pre))
		}
		// Latency through the encoder (logged, not asserted: the machine is shared).
		var lat []time.Duration
		for _, u := range pre {
			if a, ok := srcArrival[u.PTS]; ok && u.Track == 0 {
				lat = append(lat, u.Arrival.Sub(a))
			}
		}
		slices.Sort(lat)
		if len(lat) == 0 {
			t.Errorf("%s: no output frame has a source frame's PTS", r.Name)
		} else {
			t.Logf("%s: %d units (%d before the kill), key frames at %v, encoder latency p50 %v p95 %v (%d frames matched)",
				r.Name, len(all), len(pre), keys, lat[len(lat)/2], lat[len(lat)*95/100], len(lat))
		}
	}
	// The renditions' key frames are the same PTS over their common range.
	lo, hi := int64(-1<<62), int64(1<<62)
	for _, ks := range keySets {
		lo, hi = max(lo, ks[0]), min(hi, ks[len(ks)-1])
	}
	var ref []int64
	for i, ks := range keySets {
		in := slices.DeleteFunc(slices.Clone(ks), func(v int64) bool { return v < lo || v > hi })
		if i == 0 {
			ref = in
			if len(ref) < 3 {
				t.Errorf("only %d common key frames", len(ref))
			}
		} else if !slices.Equal(in, ref) {
			t.Errorf("%s key frames %v differ from %s's %v", plan[i+1].Name, in, plan[1].Name, ref)
		}
	}
	// Passthrough rendition: the source itself, at its size.
	writeTS(t, filepath.Join(dir, "src.ts"), tracks, srcUnits)
	if p := ffprobe(t, filepath.Join(dir, "src.ts")); len(p.Streams) != 2 || p.Streams[0].Height != 720 {
		t.Errorf("passthrough rendition probe %+v", p.Streams)
	}
}

func countTrack(us []*media.Unit, track int) int {
	n := 0
	for _, u := range us {
		if u.Track == track {
			n++
		}
	}
	return n
}

func lastVideo(us []*media.Unit) *media.Unit {
	for i := len(us) - 1; i >= 0; i-- {
		if us[i].Track == 0 {
			return us[i]
		}
	}
	panic(fmt.Sprintf("no video in %d units", len(us)))
}

func firstVideo(us []*media.Unit) *media.Unit {
	for _, u := range us {
		if u.Track == 0 {
			return u
		}
	}
	panic(fmt.Sprintf("no video in %d units", len(us)))
}

func TestLadderStopsCleanlyOnCancel(t *testing.T) {
	checkGoroutines(t)
	tracks, units := demuxFile(t, sourceTS(t, 16))
	src := stream.NewHub(tracks, nil)
	plan, err := Plan(TypeAdvancedSD, PresetConstrained, Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLadder(testCfg(), src, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pubCtx, stopPub := context.WithCancel(context.Background())
	defer stopPub()
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan error, 1)
	wg.Go(func() { done <- l.Run(ctx) })
	waitFor(t, "the ladder's reader", 5*time.Second, func() bool { return src.Readers() == 1 })
	wg.Go(func() { publish(pubCtx, src, tracks, units, 1) })
	select {
	case <-l.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	for i := range plan {
		if l.Hub(i) == nil {
			t.Fatalf("no hub for %s after Ready", plan[i].Name)
		}
	}
	r := l.Hub(0).NewReader("test", 0)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	ex, ok := l.Process().LastExit()
	if !ok || !ex.Stopped || ex.Killed || ex.Err != nil {
		t.Fatalf("exit %+v, want stopped by SIGINT without SIGKILL", ex)
	}
	// The rendition hubs are closed with Run.
	for range r.C() {
	}
	stopPub()
}

// TestLadderFollowsASourceTimelineJump: a publisher that reconnects on the
// same hub starts a new timeline (here 1000 s back). The renditions follow
// the new timeline, with Discontinuity, through an immediate restart.
func TestLadderFollowsASourceTimelineJump(t *testing.T) {
	checkGoroutines(t)
	tracks, units := demuxFile(t, sourceTS(t, 16))
	// First 8 s shifted 1000 s ahead, then the original timeline.
	var jumped []*media.Unit
	var cutPTS int64 = -1
	for _, u := range units {
		c := *u
		d := media.Duration(u.DTS, tracks[u.Track].ClockRate)
		if d < 9*time.Second {
			shift := media.Ticks(1000*time.Second, tracks[u.Track].ClockRate)
			c.PTS += shift
			c.DTS += shift
		} else if cutPTS < 0 && u.Track == 0 && u.Key {
			cutPTS = u.PTS
			c.Discontinuity = true
		}
		jumped = append(jumped, &c)
	}
	src := stream.NewHub(tracks, nil)
	plan, err := Plan(TypeAdvancedSD, PresetConstrained, Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	if err != nil {
		t.Fatal(err)
	}
	plan = plan[len(plan)-1:] // 160p only: cheap
	l, err := NewLadder(testCfg(), src, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- l.Run(ctx) })
	waitFor(t, "the ladder's reader", 5*time.Second, func() bool { return src.Readers() == 1 })
	wg.Go(func() { publish(ctx, src, tracks, jumped, 2) })
	select {
	case <-l.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	col := &collector{}
	r := l.Hub(0).NewReader("test", 4096)
	wg.Go(func() { col.run(r) })
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	all := col.snapshot()
	cut := slices.IndexFunc(all, func(u *media.Unit) bool { return u.Discontinuity })
	if cut <= 0 {
		t.Fatalf("no Discontinuity in %d units", len(all))
	}
	late := media.Ticks(900*time.Second, tsClock)
	if v := lastVideo(all[:cut]); v.PTS < late {
		t.Fatalf("before the jump video is at %d, want the shifted timeline", v.PTS)
	}
	v := firstVideo(all[cut:])
	if v.PTS != cutPTS || !v.Key {
		t.Fatalf("after the jump video resumes at %d (key %v), want the source key frame at %d", v.PTS, v.Key, cutPTS)
	}
	if n := countTrack(all[cut:], 0); n < 150 {
		t.Fatalf("%d video units after the jump", n)
	}
	if l.Process().Starts() != 2 {
		t.Fatalf("%d encoder starts, want 2 (one restart for the jump)", l.Process().Starts())
	}
}

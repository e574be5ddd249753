package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	pwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/compose/layout"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

// colourSource is a publisher's media: a solid colour picture (VP8, IVF)
// and a tone (Opus, Ogg), made with ffmpeg.
type colourSource struct {
	name     string
	rgb      [3]byte
	ivf, ogg string
}

func makeColourSource(t *testing.T, dir, name, colour string, rgb [3]byte, freq int) colourSource {
	t.Helper()
	s := colourSource{name: name, rgb: rgb, ivf: filepath.Join(dir, name+".ivf"), ogg: filepath.Join(dir, name+".ogg")}
	out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=%s:s=640x360:r=30", colour), "-t", "10",
		"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k", "-g", "30", "-f", "ivf", s.ivf).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=48000", freq), "-t", "10",
		"-c:a", "libopus", "-b:a", "64k", "-frame_duration", "20", "-page_duration", "20000", "-f", "ogg", s.ogg).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return s
}

// publishColour joins the stage with token and sends src in real time,
// looping, until the returned stop is called.
func publishColour(ctx context.Context, t *testing.T, base, token string, src colourSource) (stop func()) {
	t.Helper()
	video, err := pwebrtc.NewTrackLocalStaticSample(pwebrtc.RTPCodecCapability{MimeType: pwebrtc.MimeTypeVP8}, "video", src.name)
	require.NoError(t, err)
	audio, err := pwebrtc.NewTrackLocalStaticSample(pwebrtc.RTPCodecCapability{MimeType: pwebrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", src.name)
	require.NoError(t, err)
	cl := &loadgen.Client{Base: base, Token: token}
	peer, err := cl.Publish(ctx, video, audio)
	require.NoError(t, err)
	require.NoError(t, peer.WaitConnected(ctx))
	fctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { loopIVF(fctx, src.ivf, video) })
	wg.Go(func() { loopOgg(fctx, src.ogg, audio) })
	return func() {
		cancel()
		wg.Wait()
		_ = peer.Close(context.Background())
	}
}

func loopIVF(ctx context.Context, path string, track *pwebrtc.TrackLocalStaticSample) {
	tick := time.NewTicker(time.Second / 30)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, _, err := ivfreader.NewWith(f)
		for err == nil {
			var frame []byte
			if frame, _, err = r.ParseNextFrame(); err != nil {
				break
			}
			select {
			case <-ctx.Done():
				f.Close()
				return
			case <-tick.C:
			}
			_ = track.WriteSample(pmedia.Sample{Data: frame, Duration: time.Second / 30})
		}
		f.Close()
	}
}

func loopOgg(ctx context.Context, path string, track *pwebrtc.TrackLocalStaticSample) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for ctx.Err() == nil {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		r, _, err := oggreader.NewWith(f)
		var last uint64
		for err == nil {
			var page []byte
			var hdr *oggreader.OggPageHeader
			if page, hdr, err = r.ParseNextPage(); err != nil {
				break
			}
			n := hdr.GranulePosition - last
			last = hdr.GranulePosition
			if n == 0 || n > 48000 {
				continue
			}
			select {
			case <-ctx.Done():
				f.Close()
				return
			case <-tick.C:
			}
			_ = track.WriteSample(pmedia.Sample{Data: page, Duration: time.Duration(n) * time.Second / 48000})
		}
		f.Close()
	}
}

// lastFrameRGB decodes the newest complete segment of the first rendition
// of playbackURL and returns its last picture as 1280x720 rgb24, and the
// rendition playlist.
func lastFrameRGB(t *testing.T, playbackURL string) ([]byte, hlsPlaylist) {
	t.Helper()
	mv, code := fetchPlaylist(t, playbackURL)
	require.Equal(t, 200, code)
	p, code := fetchPlaylist(t, mv.uris()[0])
	require.Equal(t, 200, code)
	var init []byte
	if m := p.tags("#EXT-X-MAP"); len(m) > 0 {
		init = get(t, p.resolve(attr(m[0], "URI")))
	}
	segs := p.uris()
	require.NotEmpty(t, segs)
	f := filepath.Join(t.TempDir(), "seg.mp4")
	require.NoError(t, os.WriteFile(f, append(init, get(t, segs[len(segs)-1])...), 0o600))
	var out, stderr bytes.Buffer
	cmd := exec.Command("ffmpeg", "-v", "error", "-i", f, "-vf", "fps=2", "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	require.NoError(t, cmd.Run(), "%s", stderr.String())
	const size = 1280 * 720 * 3
	require.GreaterOrEqual(t, out.Len(), size, "a 1280x720 picture")
	b := out.Bytes()
	return b[len(b)/size*size-size : len(b)/size*size], p
}

// centreColour averages a 20x20 square at the centre of r.
func centreColour(frame []byte, r layout.Rect) [3]int {
	cx, cy := r.X+r.W/2, r.Y+r.H/2
	var sum [3]int
	n := 0
	for y := cy - 10; y < cy+10; y++ {
		for x := cx - 10; x < cx+10; x++ {
			i := (y*1280 + x) * 3
			for c := range 3 {
				sum[c] += int(frame[i+c])
			}
			n++
		}
	}
	return [3]int{sum[0] / n, sum[1] / n, sum[2] / n}
}

// looksLike reports whether got is near the pure colour want.
func looksLike(got [3]int, want [3]byte) bool {
	for c := range 3 {
		if want[c] > 128 && got[c] < 150 || want[c] < 128 && got[c] > 100 {
			return false
		}
	}
	return true
}

// TestComposeStageIntoChannelByRule is issue 5's end-to-end case: pion
// publishers with distinct pictures and tones join a stage that has an
// auto-compose rule; the composition starts on "Participant Published",
// the channel's playback shows both tiles at their grid positions with
// audio; a third publisher reflows the picture to three tiles without a
// playlist discontinuity; when everyone leaves the composition stops, and a
// signed webhook received every state change.
func TestComposeStageIntoChannelByRule(t *testing.T) {
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make test installs it)", b)
		}
	}
	dir := t.TempDir()
	c, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srcDir := t.TempDir()
	red := makeColourSource(t, srcDir, "red", "red", [3]byte{255, 0, 0}, 440)
	blue := makeColourSource(t, srcDir, "blue", "blue", [3]byte{0, 0, 255}, 880)
	lime := makeColourSource(t, srcDir, "lime", "lime", [3]byte{0, 255, 0}, 660)

	// First start: the channel and encoder configuration the rule names.
	first := startEventsNode(t, dir, nil)
	ch, err := first.IVS.CreateChannel(c, &ivs.CreateChannelInput{Name: aws.String("show"), Type: types.ChannelTypeBasicChannelType,
		LatencyMode: types.ChannelLatencyModeLowLatency, ContainerFormat: types.ContainerFormatFragmentedMP4})
	require.NoError(t, err)
	enc, err := first.Realtime.CreateEncoderConfiguration(c, &ivsrealtime.CreateEncoderConfigurationInput{
		Name: aws.String("720p"), Video: &rttypes.Video{Width: aws.Int32(1280), Height: aws.Int32(720), Framerate: aws.Float32(30), Bitrate: aws.Int32(2_500_000)}})
	require.NoError(t, err)
	first.stop()

	recv := newSignedReceiver(t, "hook-secret")
	n := startEventsNode(t, dir, func(cfg *config.Config) {
		cfg.Compose.IdleTimeout = 3 * time.Second
		cfg.Events.Webhooks = []config.EventWebhook{{URL: recv.srv.URL, Secret: "hook-secret", EventPattern: config.AllEventsPattern}}
		cfg.Events.Rules = []config.EventRule{{
			Name: "auto-compose",
			EventPattern: map[string]any{"source": []any{"aws.ivs"}, "detail-type": []any{"IVS Stage Update"},
				"detail": map[string]any{"event_name": []any{"Participant Published"}}},
			StartComposition: &config.EventStartComposition{DestinationChannelArn: *ch.Channel.Arn,
				EncoderConfigurationArn: *enc.EncoderConfiguration.Arn, Layout: "grid"},
		}}
	})
	// The playback URL carries this start's media port.
	gch, err := n.IVS.GetChannel(c, &ivs.GetChannelInput{Arn: ch.Channel.Arn})
	require.NoError(t, err)
	ch.Channel = gch.Channel
	st, err := n.Realtime.CreateStage(c, &ivsrealtime.CreateStageInput{Name: aws.String("panel")})
	require.NoError(t, err)
	token := func(user string) string {
		tok, err := n.Realtime.CreateParticipantToken(c, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String(user),
			Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish, rttypes.ParticipantTokenCapabilitySubscribe}})
		require.NoError(t, err)
		return *tok.ParticipantToken.Token
	}
	stopRed := publishColour(c, t, n.MediaEndpoint(), token("red"), red)
	stopBlue := publishColour(c, t, n.MediaEndpoint(), token("blue"), blue)
	stopped := false
	stopAll := []func(){stopRed, stopBlue}
	defer func() {
		if !stopped {
			for _, s := range stopAll {
				s()
			}
		}
	}()

	// The rule starts one composition; the channel goes live with it.
	var compARN string
	require.Eventually(t, func() bool {
		list, err := n.Realtime.ListCompositions(c, &ivsrealtime.ListCompositionsInput{FilterByStageArn: st.Stage.Arn})
		if err != nil || len(list.Compositions) == 0 {
			return false
		}
		compARN = *list.Compositions[0].Arn
		return list.Compositions[0].State == rttypes.CompositionStateActive
	}, 60*time.Second, 200*time.Millisecond, "the rule starts a composition that becomes ACTIVE")
	waitLive(t, *ch.Channel.PlaybackUrl)

	grid := layout.FromRTAPI(nil)
	tiles := func(ids ...string) map[string]layout.Rect {
		var ps []layout.Participant
		for i, id := range ids {
			ps = append(ps, layout.Participant{ID: id, Joined: int64(i)})
		}
		out := map[string]layout.Rect{}
		for _, tl := range layout.Compute(grid, 1280, 720, ps) {
			out[tl.ParticipantID] = tl.Rect
		}
		return out
	}
	expectTiles := func(what string, srcs ...colourSource) hlsPlaylist {
		var ids []string
		for _, s := range srcs {
			ids = append(ids, s.name)
		}
		want := tiles(ids...)
		var p hlsPlaylist
		var last string
		ok := false
		for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
			var frame []byte
			frame, p = lastFrameRGB(t, *ch.Channel.PlaybackUrl)
			ok = true
			var got []string
			for _, s := range srcs {
				col := centreColour(frame, want[s.name])
				got = append(got, fmt.Sprintf("%s@%v=%v", s.name, want[s.name], col))
				if !looksLike(col, s.rgb) {
					ok = false
				}
			}
			last = strings.Join(got, " ")
			if ok {
				break
			}
		}
		require.True(t, ok, "%s: tiles at their grid positions; last seen %s", what, last)
		return p
	}
	expectTiles("two publishers", red, blue)

	// Audio is in the channel's output.
	mv, _ := fetchPlaylist(t, *ch.Channel.PlaybackUrl)
	p, _ := fetchPlaylist(t, mv.uris()[0])
	init := get(t, p.resolve(attr(p.tags("#EXT-X-MAP")[0], "URI")))
	pr := ffprobeBytes(t, append(init, get(t, p.uris()[len(p.uris())-1])...), ".mp4")
	require.True(t, pr.hasAudio(), "the composition carries the mixed audio")

	// A third publisher: the picture reflows to three tiles, the output
	// keeps running (no discontinuity in the channel's playlist).
	stopAll = append(stopAll, publishColour(c, t, n.MediaEndpoint(), token("lime"), lime))
	p = expectTiles("three publishers", red, blue, lime)
	require.Empty(t, p.tags("#EXT-X-DISCONTINUITY"), "reflow must not break the stream")

	// Everyone leaves: the composition stops by itself after the idle time.
	for _, s := range stopAll {
		s()
	}
	stopped = true
	require.Eventually(t, func() bool {
		got, err := n.Realtime.GetComposition(c, &ivsrealtime.GetCompositionInput{Arn: &compARN})
		return err == nil && got.Composition.State == rttypes.CompositionStateStopped
	}, 60*time.Second, 250*time.Millisecond, "the composition stops after the last publisher left")

	// Every state change reached the webhook, signed.
	need := map[string]bool{
		"IVS Composition State Change/Session Start": false, "IVS Composition State Change/Session End": false,
		"IVS Composition State Change/Destination Start": false, "IVS Composition State Change/Destination End": false,
		"IVS Stage Update/Participant Published": false, "IVS Stage Update/Participant Unpublished": false,
		"IVS Stream State Change/Stream Start": false, "IVS Stream State Change/Stream End": false,
	}
	require.Eventually(t, func() bool {
		evs, _ := recv.got()
		for _, e := range evs {
			var d struct {
				EventName string `json:"event_name"`
			}
			_ = json.Unmarshal(e.Detail, &d)
			key := e.DetailType + "/" + d.EventName
			if _, ok := need[key]; ok {
				need[key] = true
			}
		}
		for _, v := range need {
			if !v {
				return false
			}
		}
		return true
	}, 30*time.Second, 250*time.Millisecond, "events at the webhook: %v", need)
	_, bad := recv.got()
	require.Zero(t, bad, "every webhook request carries a valid signature")
}

package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/transcode"
)

// ffmpegPublish pushes a 1280x720 30 fps test pattern with a 1 kHz tone to
// target (an rtmp://, rtmps:// or srt:// URL) for dur, in real time. It
// returns ffmpeg's exit error.
func ffmpegPublish(ctx context.Context, t *testing.T, target string, dur time.Duration) error {
	t.Helper()
	format := "flv"
	if strings.HasPrefix(target, "srt://") {
		format = "mpegts"
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", fmt.Sprintf("%.1f", dur.Seconds()),
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "128k", "-f", format, target}
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

type hlsPlaylist struct {
	lines []string
	base  *url.URL
}

func fetchPlaylist(t *testing.T, u string) (hlsPlaylist, int) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	base, _ := url.Parse(u)
	var p hlsPlaylist
	p.base = base
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			p.lines = append(p.lines, l)
		}
	}
	return p, resp.StatusCode
}

func (p hlsPlaylist) resolve(ref string) string {
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return p.base.ResolveReference(r).String()
}

// tags returns the lines starting with prefix.
func (p hlsPlaylist) tags(prefix string) []string {
	var out []string
	for _, l := range p.lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// uris returns the non-tag lines (variant or segment URIs), resolved.
func (p hlsPlaylist) uris() []string {
	var out []string
	for _, l := range p.lines {
		if !strings.HasPrefix(l, "#") {
			out = append(out, p.resolve(l))
		}
	}
	return out
}

// attr reads NAME=value (quoted or not) from a tag line.
func attr(line, name string) string {
	i := strings.Index(line, name+"=")
	if i < 0 {
		return ""
	}
	v := line[i+len(name)+1:]
	if strings.HasPrefix(v, `"`) {
		v = v[1:]
		return v[:strings.IndexByte(v, '"')]
	}
	if j := strings.IndexByte(v, ','); j >= 0 {
		v = v[:j]
	}
	return v
}

func get(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", u, b)
	return b
}

type probe struct {
	Streams []struct {
		CodecType string `json:"codec_type"`
		CodecName string `json:"codec_name"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
	} `json:"streams"`
}

// ffprobeBytes decodes every frame of data with ffmpeg (errors fail) and
// returns ffprobe's stream list.
func ffprobeBytes(t *testing.T, data []byte, ext string) probe {
	t.Helper()
	f := filepath.Join(t.TempDir(), "media"+ext)
	require.NoError(t, os.WriteFile(f, data, 0o600))
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-of", "json", f).Output()
	require.NoError(t, err, "ffprobe %s", f)
	var p probe
	require.NoError(t, json.Unmarshal(out, &p))
	dec, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", f, "-f", "null", "-").CombinedOutput()
	require.NoError(t, err, "decode %s: %s", f, dec)
	return p
}

func (p probe) video() (w, h int, ok bool) {
	for _, s := range p.Streams {
		if s.CodecType == "video" {
			return s.Width, s.Height, true
		}
	}
	return 0, 0, false
}

func (p probe) hasAudio() bool {
	for _, s := range p.Streams {
		if s.CodecType == "audio" {
			return true
		}
	}
	return false
}

func createChannel(t *testing.T, srv *testutil.Server, in *ivs.CreateChannelInput) *ivs.CreateChannelOutput {
	t.Helper()
	out, err := srv.IVS.CreateChannel(context.Background(), in)
	require.NoError(t, err)
	return out
}

// waitLive polls the playback URL until the multivariant playlist lists a
// rendition whose playlist has a segment.
func waitLive(t *testing.T, playbackURL string) hlsPlaylist {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mv, code := fetchPlaylist(t, playbackURL)
		if code == http.StatusOK && len(mv.uris()) > 0 {
			media, code := fetchPlaylist(t, mv.uris()[0])
			if code == http.StatusOK && len(media.tags("#EXTINF")) >= 2 {
				return mv
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("channel never went live at %s", playbackURL)
	return hlsPlaylist{}
}

func rtmpURL(srv *testutil.Server, scheme, key string) string {
	addr := srv.RTMPAddr()
	if scheme == "rtmps" {
		addr = srv.RTMPSAddr()
	}
	return scheme + "://" + addr + "/app/" + key
}

func srtURL(srv *testutil.Server, key, pass string) string {
	return "srt://" + srv.SRTAddr() + "?streamid=" + url.QueryEscape(key) + "&passphrase=" + url.QueryEscape(pass) + "&pbkeylen=16"
}

// checkLLHLS validates a LOW-latency rendition playlist and decodes its
// media with ffmpeg; it returns the picture size.
func checkLLHLS(t *testing.T, mediaURL string) (int, int) {
	t.Helper()
	p, code := fetchPlaylist(t, mediaURL)
	require.Equal(t, http.StatusOK, code)
	require.NotEmpty(t, p.tags("#EXT-X-PART-INF"), "LL-HLS needs EXT-X-PART-INF")
	ctl := p.tags("#EXT-X-SERVER-CONTROL")
	require.NotEmpty(t, ctl)
	require.Contains(t, ctl[0], "CAN-BLOCK-RELOAD=YES")
	require.NotEmpty(t, p.tags("#EXT-X-PRELOAD-HINT"))
	parts := p.tags("#EXT-X-PART:")
	require.NotEmpty(t, parts)
	partTarget, err := strconv.ParseFloat(attr(p.tags("#EXT-X-PART-INF")[0], "PART-TARGET"), 64)
	require.NoError(t, err)
	for _, l := range parts {
		d, err := strconv.ParseFloat(attr(l, "DURATION"), 64)
		require.NoError(t, err)
		require.LessOrEqual(t, d, partTarget+0.001, "part longer than PART-TARGET: %s", l)
	}
	target, err := strconv.Atoi(strings.TrimPrefix(p.tags("#EXT-X-TARGETDURATION:")[0], "#EXT-X-TARGETDURATION:"))
	require.NoError(t, err)
	for _, l := range p.tags("#EXTINF:") {
		d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l, "#EXTINF:"), ","), 64)
		require.NoError(t, err)
		require.LessOrEqual(t, int(d+0.5), target, "segment longer than TARGETDURATION")
	}

	var init []byte
	ext := ".ts"
	if m := p.tags("#EXT-X-MAP"); len(m) > 0 {
		init = get(t, p.resolve(attr(m[0], "URI")))
		ext = ".mp4"
	}
	segs := p.uris()
	require.NotEmpty(t, segs)
	var w, h int
	for _, s := range segs {
		pr := ffprobeBytes(t, append(append([]byte(nil), init...), get(t, s)...), ext)
		var ok bool
		w, h, ok = pr.video()
		require.True(t, ok, "segment %s has no video", s)
		require.True(t, pr.hasAudio(), "segment %s has no audio", s)
	}
	// Every part listed decodes on its own after the init segment (the
	// first part of a segment is independent; later parts are checked as a
	// run from there).
	var run []byte
	for _, l := range parts {
		b := get(t, p.resolve(attr(l, "URI")))
		if strings.Contains(l, "INDEPENDENT=YES") {
			run = nil
		}
		run = append(run, b...)
		if strings.Contains(l, "INDEPENDENT=YES") {
			pr := ffprobeBytes(t, append(append([]byte(nil), init...), run...), ext)
			_, _, ok := pr.video()
			require.True(t, ok)
		}
	}

	// A blocking reload for the next part returns once it exists and lists it.
	msn, part := nextPart(p)
	q := fmt.Sprintf("_HLS_msn=%d&_HLS_part=%d", msn, part)
	sep := "?"
	if strings.Contains(mediaURL, "?") {
		sep = "&"
	}
	t0 := time.Now()
	next, code := fetchPlaylist(t, mediaURL+sep+q)
	require.Equal(t, http.StatusOK, code)
	require.Less(t, time.Since(t0), 5*time.Second)
	require.True(t, hasPart(next, msn, part), "blocking reload %s did not return the requested part", q)
	return w, h
}

// nextPart is the (msn, part) after the last part listed.
func nextPart(p hlsPlaylist) (int, int) {
	msn := 0
	if s := p.tags("#EXT-X-MEDIA-SEQUENCE:"); len(s) > 0 {
		msn, _ = strconv.Atoi(strings.TrimPrefix(s[0], "#EXT-X-MEDIA-SEQUENCE:"))
	}
	part := 0
	for _, l := range p.lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			part++
		case !strings.HasPrefix(l, "#"):
			msn++
			part = 0
		}
	}
	return msn, part
}

// hasPart reports whether playlist p lists part (msn, part).
func hasPart(p hlsPlaylist, msn, part int) bool {
	seq := 0
	if s := p.tags("#EXT-X-MEDIA-SEQUENCE:"); len(s) > 0 {
		seq, _ = strconv.Atoi(strings.TrimPrefix(s[0], "#EXT-X-MEDIA-SEQUENCE:"))
	}
	n := 0
	for _, l := range p.lines {
		switch {
		case strings.HasPrefix(l, "#EXT-X-PART:"):
			if seq == msn && n == part {
				return true
			}
			n++
		case !strings.HasPrefix(l, "#"):
			if seq == msn && part < n {
				return true
			}
			seq++
			n = 0
		}
	}
	return false
}

func TestChannelIngestToLLHLS(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (make test installs it)")
	}
	srv := testutil.Start(t, "")
	for _, proto := range []string{"rtmp", "rtmps", "srt"} {
		t.Run(proto, func(t *testing.T) {
			ch := createChannel(t, srv, &ivs.CreateChannelInput{
				Name: aws.String("e2e-" + proto), Type: types.ChannelTypeBasicChannelType,
				LatencyMode: types.ChannelLatencyModeLowLatency, ContainerFormat: types.ContainerFormatFragmentedMP4,
				InsecureIngest: proto == "rtmp", // IVS refuses plain RTMP otherwise
			})
			key := *ch.StreamKey.Value
			target := rtmpURL(srv, proto, key)
			if proto == "srt" {
				target = srtURL(srv, key, *ch.Channel.Srt.Passphrase)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- ffmpegPublish(ctx, t, target, 50*time.Second) }()
			mv := waitLive(t, *ch.Channel.PlaybackUrl)
			require.NotEmpty(t, mv.tags("#EXT-X-STREAM-INF"))
			w, h := checkLLHLS(t, mv.uris()[0])
			require.Equal(t, 1280, w)
			require.Equal(t, 720, h)

			st, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
			require.NoError(t, err)
			require.Equal(t, types.StreamStateStreamLive, st.Stream.State)
			cancel()
			<-done
		})
	}
}

func TestChannelIngestRefusals(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (make test installs it)")
	}
	srv := testutil.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	require.Error(t, ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", "sk_us-east-1_notakey"), 2*time.Second), "unknown key must be refused")

	ch := createChannel(t, srv, &ivs.CreateChannelInput{Name: aws.String("busy"), Type: types.ChannelTypeBasicChannelType})
	require.Error(t, ffmpegPublish(ctx, t, rtmpURL(srv, "rtmp", *ch.StreamKey.Value), 6*time.Second), "plain RTMP is refused without insecureIngest")
	first := make(chan error, 1)
	go func() { first <- ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", *ch.StreamKey.Value), 40*time.Second) }()
	require.Eventually(t, func() bool {
		_, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
		return err == nil
	}, 15*time.Second, 100*time.Millisecond)
	before, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	t0 := time.Now()
	require.Error(t, ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", *ch.StreamKey.Value), 10*time.Second), "second publisher must be refused")
	require.Less(t, time.Since(t0), 9*time.Second, "the second publisher was cut off")
	after, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	require.Equal(t, *before.Stream.StreamId, *after.Stream.StreamId, "the first publisher keeps the channel")

	_, err = srv.IVS.StopStream(ctx, &ivs.StopStreamInput{ChannelArn: ch.Channel.Arn})
	require.NoError(t, err)
	select {
	case err := <-first:
		require.Error(t, err, "StopStream disconnects the publisher")
	case <-time.After(15 * time.Second):
		t.Fatal("publisher still connected after StopStream")
	}
}

func TestPrivateChannelPlayback(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (make test installs it)")
	}
	srv := testutil.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	key, err := auth.GenerateKey()
	require.NoError(t, err)
	pemText, err := auth.MarshalPublicKeyPEM(&key.PublicKey)
	require.NoError(t, err)
	_, err = srv.IVS.ImportPlaybackKeyPair(ctx, &ivs.ImportPlaybackKeyPairInput{PublicKeyMaterial: &pemText})
	require.NoError(t, err)
	ch := createChannel(t, srv, &ivs.CreateChannelInput{Name: aws.String("private"), Type: types.ChannelTypeBasicChannelType, Authorized: true})
	other := createChannel(t, srv, &ivs.CreateChannelInput{Name: aws.String("other"), Type: types.ChannelTypeBasicChannelType, Authorized: true})
	done := make(chan error, 1)
	go func() { done <- ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", *ch.StreamKey.Value), 40*time.Second) }()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool {
		_, err := srv.IVS.GetStream(ctx, &ivs.GetStreamInput{ChannelArn: ch.Channel.Arn})
		return err == nil
	}, 15*time.Second, 100*time.Millisecond)

	sign := func(arn string, exp time.Time) string {
		tok, err := auth.SignPlayback(key, auth.PlaybackClaims{ChannelARN: arn, ExpiresAt: exp})
		require.NoError(t, err)
		return tok
	}
	status := func(token string) int {
		u := *ch.Channel.PlaybackUrl
		if token != "" {
			u += "?token=" + url.QueryEscape(token)
		}
		resp, err := http.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusForbidden, status(""), "no token")
	require.Equal(t, http.StatusForbidden, status("garbage.token.here"), "bad token")
	require.Equal(t, http.StatusForbidden, status(sign(*ch.Channel.Arn, time.Now().Add(-time.Minute))), "expired token")
	require.Equal(t, http.StatusForbidden, status(sign(*other.Channel.Arn, time.Now().Add(time.Hour))), "wrong channel")
	good := sign(*ch.Channel.Arn, time.Now().Add(time.Hour))
	require.Eventually(t, func() bool { return status(good) == http.StatusOK }, 15*time.Second, 200*time.Millisecond)
	// Child URLs carry the token, so the media playlist plays too.
	mv, code := fetchPlaylist(t, *ch.Channel.PlaybackUrl+"?token="+url.QueryEscape(good))
	require.Equal(t, http.StatusOK, code)
	_, code = fetchPlaylist(t, mv.uris()[0])
	require.Equal(t, http.StatusOK, code)
}

func TestStandardChannelLadder(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (make test installs it)")
	}
	srv := testutil.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ch := createChannel(t, srv, &ivs.CreateChannelInput{Name: aws.String("standard"), Type: types.ChannelTypeStandardChannelType})
	done := make(chan error, 1)
	go func() { done <- ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", *ch.StreamKey.Value), 60*time.Second) }()
	defer func() { cancel(); <-done }()

	plan, err := transcode.Plan("STANDARD", "", transcode.Source{Width: 1280, Height: 720, FPS: 30, HasVideo: true})
	require.NoError(t, err)
	want := map[string]bool{}
	for _, r := range plan {
		want[fmt.Sprintf("%dx%d", r.Width, r.Height)] = true
	}
	require.Greater(t, len(want), 2, "a STANDARD 720p source gets a ladder")

	var mv hlsPlaylist
	require.Eventually(t, func() bool {
		var code int
		mv, code = fetchPlaylist(t, *ch.Channel.PlaybackUrl)
		return code == http.StatusOK && len(mv.tags("#EXT-X-STREAM-INF")) == len(plan)
	}, 40*time.Second, 250*time.Millisecond, "multivariant playlist should list every rendition of the ladder")
	got := map[string]bool{}
	for i, inf := range mv.tags("#EXT-X-STREAM-INF") {
		res := attr(inf, "RESOLUTION")
		got[res] = true
		uri := mv.uris()[i]
		require.Eventually(t, func() bool {
			p, code := fetchPlaylist(t, uri)
			return code == http.StatusOK && len(p.tags("#EXTINF")) >= 1
		}, 30*time.Second, 250*time.Millisecond, "rendition %s never produced a segment", res)
		p, _ := fetchPlaylist(t, uri)
		var init []byte
		ext := ".ts"
		if m := p.tags("#EXT-X-MAP"); len(m) > 0 {
			init = get(t, p.resolve(attr(m[0], "URI")))
			ext = ".mp4"
		}
		pr := ffprobeBytes(t, append(init, get(t, p.uris()[0])...), ext)
		w, h, ok := pr.video()
		require.True(t, ok)
		require.Equal(t, res, fmt.Sprintf("%dx%d", w, h), "rendition decodes at its advertised resolution")
	}
	require.Equal(t, want, got)
}

func TestChannelRecordingLocal(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (make test installs it)")
	}
	srv := testutil.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rc, err := srv.IVS.CreateRecordingConfiguration(ctx, &ivs.CreateRecordingConfigurationInput{
		Name:                     aws.String("rec"),
		DestinationConfiguration: &types.DestinationConfiguration{S3: &types.S3DestinationConfiguration{BucketName: aws.String("my-bucket")}},
		ThumbnailConfiguration:   &types.ThumbnailConfiguration{RecordingMode: types.RecordingModeInterval, TargetIntervalSeconds: aws.Int64(1)},
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := srv.IVS.GetRecordingConfiguration(ctx, &ivs.GetRecordingConfigurationInput{Arn: rc.RecordingConfiguration.Arn})
		return err == nil && got.RecordingConfiguration.State == types.RecordingConfigurationStateActive
	}, 10*time.Second, 100*time.Millisecond)
	ch := createChannel(t, srv, &ivs.CreateChannelInput{Name: aws.String("recorded"), Type: types.ChannelTypeBasicChannelType,
		RecordingConfigurationArn: rc.RecordingConfiguration.Arn})
	require.NoError(t, ffmpegPublish(ctx, t, rtmpURL(srv, "rtmps", *ch.StreamKey.Value), 9*time.Second))

	bucket := filepath.Join(srv.DataDir, "recordings", "my-bucket")
	var ended string
	require.Eventually(t, func() bool {
		m, _ := filepath.Glob(filepath.Join(bucket, "ivs", "v1", "*", "*", "*", "*", "*", "*", "*", "*", "events", "recording-ended.json"))
		if len(m) == 1 {
			ended = m[0]
		}
		return ended != ""
	}, 40*time.Second, 250*time.Millisecond, "recording-ended.json after the reconnect window")
	root := filepath.Dir(filepath.Dir(ended))
	rel, err := filepath.Rel(bucket, root)
	require.NoError(t, err)
	parts := strings.Split(rel, string(filepath.Separator))
	require.Equal(t, []string{"ivs", "v1", srv.Config().AccountID}, parts[:3])
	require.Equal(t, strings.TrimPrefix(*ch.Channel.Arn, "arn:aws:ivs:us-east-1:"+srv.Config().AccountID+":channel/"), parts[3])
	require.FileExists(t, filepath.Join(root, "events", "recording-started.json"))
	var meta struct {
		RecordingStatus string `json:"recording_status"`
		ChannelARN      string `json:"channel_arn"`
		Media           struct {
			HLS struct {
				DurationMS int64  `json:"duration_ms"`
				Path       string `json:"path"`
				Playlist   string `json:"playlist"`
			} `json:"hls"`
		} `json:"media"`
	}
	raw, err := os.ReadFile(ended)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &meta))
	require.Equal(t, "RECORDING_ENDED", meta.RecordingStatus)
	require.Equal(t, *ch.Channel.Arn, meta.ChannelARN)
	require.Greater(t, meta.Media.HLS.DurationMS, int64(5000))
	master := filepath.Join(root, meta.Media.HLS.Path, meta.Media.HLS.Playlist)
	out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", master, "-f", "null", "-").CombinedOutput()
	require.NoError(t, err, "the recording plays as one stream: %s", out)
	segs, _ := filepath.Glob(filepath.Join(root, meta.Media.HLS.Path, "*", "*.ts"))
	require.NotEmpty(t, segs)
	for _, s := range segs {
		out, err := exec.Command("ffmpeg", "-v", "error", "-xerror", "-i", s, "-f", "null", "-").CombinedOutput()
		require.NoError(t, err, "segment %s decodes cleanly: %s", s, out)
	}
	thumbs, _ := filepath.Glob(filepath.Join(root, "media", "thumbnails", "*", "*.jpg"))
	if len(thumbs) == 0 {
		thumbs, _ = filepath.Glob(filepath.Join(root, "media", "thumbnails", "*.jpg"))
	}
	require.NotEmpty(t, thumbs, "thumbnails at the configured interval")
}

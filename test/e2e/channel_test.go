package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	ivstypes "github.com/aws/aws-sdk-go-v2/service/ivs/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

// publishRTMP pushes a 640x360 30 fps test pattern with a tone to url with
// ffmpeg until the test ends.
func publishRTMP(t *testing.T, url string) {
	t.Helper()
	if _, err := os.Stat(ffmpegPath); err != nil {
		t.Skipf("needs %s: %v", ffmpegPath, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, ffmpegPath, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "120",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "60", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "96k", "-f", "flv", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cmd.Wait() })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("ffmpeg: %s", stderr.String())
		}
	})
}

// The seed's /playback page against a real channel: ffmpeg publishes over
// RTMP, /playback/<channelId> plays the LL-HLS stream with hls.js, shows
// its latency, and lists a PutMetadata cue.
func TestPlayerPlaysChannel(t *testing.T) {
	b := newBrowser(t)
	s := testutil.Start(t, "")
	ctx := context.Background()
	ch, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{
		Name: aws.String("e2e-player"), Type: ivstypes.ChannelTypeBasicChannelType,
		LatencyMode: ivstypes.ChannelLatencyModeLowLatency, ContainerFormat: ivstypes.ContainerFormatFragmentedMP4,
	})
	require.NoError(t, err)
	channelID := (*ch.Channel.Arn)[strings.LastIndex(*ch.Channel.Arn, "/")+1:]

	// The page opens before the stream starts, as a viewer would.
	tb := b.tab(t, "player", true)
	tb.run(t, 20*time.Second, chromedp.Navigate(s.MediaEndpoint()+"/playback/"+channelID), chromedp.WaitVisible(chromedp.CSS("#video")))
	require.Equal(t, *ch.Channel.PlaybackUrl, eval[string](t, tb, `document.getElementById("url").value`))
	publishRTMP(t, s.Identity.RTMPSURL()+*ch.StreamKey.Value) // plain RTMP needs insecureIngest

	poll[bool](t, tb, 45*time.Second, "the channel to play", `(() => {
		const v = window.stagecastPlayer.video;
		return v.videoWidth === 640 && v.currentTime > 1 && !v.paused;
	})()`)
	st := poll[playerStats](t, tb, 15*time.Second, "latency figures", `(() => {
		const s = window.stagecastPlayer.stats();
		return s.latency > 0 && s.pdtLatency !== null && s.rendition && s;
	})()`)
	t.Logf("channel latency %.2f s (hls.js), %.2f s (program date-time), rendition %s", *st.Latency, *st.PDTLatency, st.Rendition)
	require.Less(t, *st.Latency, 10.0, "low-latency HLS stays near the live edge")
	require.Less(t, *st.PDTLatency, 10.0)

	_, err = s.IVS.PutMetadata(ctx, &ivs.PutMetadataInput{ChannelArn: ch.Channel.Arn, Metadata: aws.String(`{"question":"e2e cue"}`)})
	require.NoError(t, err)
	cue := poll[string](t, tb, 20*time.Second, "the metadata cue", `(() => {
		const li = [...document.querySelectorAll("#metadata li")].find(l => l.textContent.includes("e2e cue"));
		return li && li.textContent;
	})()`)
	require.Contains(t, cue, `TXXX: {"question":"e2e cue"}`)
	for _, e := range tb.errors() {
		require.Contains(t, e, "404", "only the playlist of the not-yet-live channel may fail: %s", e)
	}
}

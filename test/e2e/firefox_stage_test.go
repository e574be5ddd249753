package e2e_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/testutil/bidi"
)

// foxTab is a Firefox page driven over WebDriver BiDi.
type foxTab struct {
	name string
	tab  *bidi.Tab
}

// newFoxTab opens a tab in b whose console is logged if the test fails.
func newFoxTab(t *testing.T, b *bidi.Browser, name string) *foxTab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tb, err := b.NewTab(ctx)
	if err != nil {
		t.Fatalf("firefox: open tab %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, e := range tb.Console() {
				t.Logf("%s console: %s", name, e)
			}
		}
	})
	return &foxTab{name: name, tab: tb}
}

// join opens /stage, pastes the token and clicks Join Stage.
func (f *foxTab) join(t *testing.T, base, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.tab.Navigate(ctx, base+"/stage"); err != nil {
		t.Fatalf("%s: open /stage: %v", f.name, err)
	}
	if err := f.tab.Eval(ctx, `(() => {
		document.getElementById("token").value = `+jsString(token)+`;
		document.getElementById("join").click();
	})()`, nil); err != nil {
		t.Fatalf("%s: join: %v", f.name, err)
	}
}

// foxEval evaluates a JavaScript expression (awaiting a promise) in a
// Firefox page.
func foxEval[T any](t *testing.T, f *foxTab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var v T
	if err := f.tab.Eval(ctx, expr, &v); err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	return v
}

// foxPoll waits until expr is truthy in a Firefox page and returns its value.
func foxPoll[T any](t *testing.T, f *foxTab, timeout time.Duration, what, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var v T
	if err := f.tab.Poll(ctx, expr, 100*time.Millisecond, &v); err != nil {
		var status string
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = f.tab.Eval(sctx, `(document.getElementById("status") || {}).textContent || ""`, &status)
		scancel()
		t.Fatalf("%s: waiting for %s: %v (page status: %q)", f.name, what, err, status)
	}
	return v
}

// videoCodecJS names the codec of the video a remote tile receives (from
// the inbound-rtp stats).
func videoCodecJS(label string) string {
	return `(async () => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === ` + jsString(label) + `);
		const stats = await window.stagecast.stage.peerConnectionFor(tile.dataset.participantId).getStats();
		let codec = "";
		stats.forEach(r => { if (r.type === "inbound-rtp" && r.kind === "video" && r.codecId && stats.get(r.codecId)) codec = stats.get(r.codecId).mimeType; });
		return codec;
	})()`
}

// Issue 4 ("works in Chromium and Firefox"): a Firefox page and a Chromium
// page join one stage; each shows the other's tile, labelled, with its
// video decoding, so both publish and subscribe work across the two
// browsers. Then a subscribe-only token in a second Firefox tab watches
// both without publishing.
func TestStageFirefoxAndChromium(t *testing.T) {
	fox := bidi.Start(t, bidi.Options{})
	chrome := newBrowser(t)
	s := testutil.Start(t, "")
	ctx := context.Background()

	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("e2e-firefox")})
	require.NoError(t, err)
	token := func(user string, caps ...rttypes.ParticipantTokenCapability) string {
		out, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
			StageArn: st.Stage.Arn, UserId: aws.String(user), Capabilities: caps,
		})
		require.NoError(t, err)
		return *out.ParticipantToken.Token
	}
	both := []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish, rttypes.ParticipantTokenCapabilitySubscribe}

	joined := time.Now()
	ff := newFoxTab(t, fox, "firefox")
	ff.join(t, s.MediaEndpoint(), token("firefox-user", both...))
	cr := chrome.tab(t, "chromium", true)
	cr.run(t, 20*time.Second,
		chromedp.Navigate(s.MediaEndpoint()+"/stage"),
		chromedp.WaitVisible(chromedp.CSS("#join")),
		chromedp.SetValue(chromedp.CSS("#token"), token("chromium-user", both...)),
		chromedp.Click(chromedp.CSS("#join")))

	// Firefox subscribes to Chromium, and Chromium to Firefox (Firefox's
	// publish).
	foxPoll[bool](t, ff, 30*time.Second, "chromium-user's video", tileReadyJS("chromium-user"))
	t.Logf("firefox shows chromium-user's video %v after the pages started joining", time.Since(joined).Round(time.Millisecond))
	poll[bool](t, cr, 30*time.Second, "firefox-user's video", tileReadyJS("firefox-user"))
	t.Logf("chromium shows firefox-user's video %v after the pages started joining", time.Since(joined).Round(time.Millisecond))

	require.Equal(t, []string{"chromium-user"}, foxEval[[]string](t, ff, remoteLabelsJS), "firefox sees exactly one other tile")
	require.Equal(t, "firefox-user (you)", foxEval[string](t, ff, `document.querySelector(".tile.local .label").textContent`))
	require.Equal(t, []string{"firefox-user"}, eval[[]string](t, cr, remoteLabelsJS), "chromium sees exactly one other tile")
	require.Equal(t, "chromium-user (you)", eval[string](t, cr, `document.querySelector(".tile.local .label").textContent`))

	// Video keeps decoding both ways: the element's size, the frames it
	// shows (framesShownJS: totalVideoFrames in Chromium, mozPaintedFrames
	// in Firefox) and the inbound-rtp framesDecoded, over 2 s.
	checkDecoding := func(t *testing.T, page, other string, m decoding, codec string) {
		t.Helper()
		t.Logf("%s sees %s (%s): %dx%d, %d->%d frames shown, %d->%d decoded in 2 s", page, other, codec,
			m.Width, m.Height, m.Frames0, m.Frames1, m.Decoded0, m.Decoded1)
		require.Equal(t, other, m.UserLabel)
		require.Positive(t, m.Width, "%s's video width on the %s page", other, page)
		require.Positive(t, m.Height, "%s's video height on the %s page", other, page)
		require.GreaterOrEqual(t, m.Frames1-m.Frames0, 10, "%s's video keeps playing on the %s page", other, page)
		require.GreaterOrEqual(t, m.Decoded1-m.Decoded0, 10, "%s's video keeps decoding on the %s page", other, page)
		require.True(t, strings.HasPrefix(codec, "video/"), "the %s page names the codec of %s's video: %q", page, other, codec)
	}
	checkDecoding(t, "firefox", "chromium-user", foxEval[decoding](t, ff, measureJS("chromium-user")), foxEval[string](t, ff, videoCodecJS("chromium-user")))
	checkDecoding(t, "chromium", "firefox-user", eval[decoding](t, cr, measureJS("firefox-user")), eval[string](t, cr, videoCodecJS("firefox-user")))

	// Firefox's microphone reaches Chromium too.
	audio := poll[bool](t, cr, 10*time.Second, "firefox-user's audio", `(async () => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === "firefox-user");
		let bytes = 0;
		(await window.stagecast.stage.peerConnectionFor(tile.dataset.participantId).getStats()).forEach(r => {
			if (r.type === "inbound-rtp" && r.kind === "audio") bytes += r.bytesReceived || 0;
		});
		return bytes > 0;
	})()`)
	require.True(t, audio)

	t.Run("subscribe-only watcher in Firefox", func(t *testing.T) {
		w := newFoxTab(t, fox, "firefox-watcher")
		w.join(t, s.MediaEndpoint(), token("watcher", rttypes.ParticipantTokenCapabilitySubscribe))
		foxPoll[bool](t, w, 30*time.Second, "both videos", tileReadyJS("chromium-user")+" && "+tileReadyJS("firefox-user"))
		require.Equal(t, []string{"chromium-user", "firefox-user"}, foxEval[[]string](t, w, remoteLabelsJS))
		require.Equal(t, 0, foxEval[int](t, w, `document.querySelectorAll(".tile.local").length`), "a watcher has no local tile")
		require.True(t, foxEval[bool](t, w, `window.stagecast.stage.localStream === null && window.stagecast.stage.publisherConnection === null`), "a watcher publishes nothing")
		checkDecoding(t, "firefox watcher", "chromium-user", foxEval[decoding](t, w, measureJS("chromium-user")), foxEval[string](t, w, videoCodecJS("chromium-user")))
		require.Equal(t, []string{"firefox-user"}, eval[[]string](t, cr, remoteLabelsJS), "chromium has no tile for the watcher")
		require.Equal(t, []string{"chromium-user"}, foxEval[[]string](t, ff, remoteLabelsJS), "firefox has no tile for the watcher")
		for _, e := range w.tab.Errors() {
			t.Errorf("firefox watcher: %s", e)
		}
	})

	// Mute in Firefox reaches Chromium through the events socket.
	require.NoError(t, ff.tab.Eval(context.Background(), `document.getElementById("mute-audio").click()`, nil))
	poll[bool](t, cr, 15*time.Second, "firefox-user's muted flag", `(() => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === "firefox-user");
		return !!tile && tile.querySelector(".flags").textContent === "muted";
	})()`)
	require.False(t, foxEval[bool](t, ff, `window.stagecast.stage.localStream.getAudioTracks()[0].enabled`), "a muted microphone sends silence")

	// Leave Stage in Firefox: its tile goes away on the Chromium page.
	require.NoError(t, ff.tab.Eval(context.Background(), `document.getElementById("leave").click()`, nil))
	poll[bool](t, cr, 15*time.Second, "firefox-user's tile to go", `(() => { const l = `+remoteLabelsJS+`; return l.length === 0; })()`)

	for _, e := range ff.tab.Errors() {
		t.Errorf("firefox: %s", e)
	}

	// A revoked token is refused in Firefox too (its WebSocket reports the
	// refusal as a close before the snapshot), and the page stays ready.
	revoked, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
		StageArn: st.Stage.Arn, UserId: aws.String("revoked"), Capabilities: both,
	})
	require.NoError(t, err)
	_, err = s.Realtime.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{
		StageArn: st.Stage.Arn, ParticipantId: revoked.ParticipantToken.ParticipantId, Reason: aws.String("revoked"),
	})
	require.NoError(t, err)
	ff.join(t, s.MediaEndpoint(), *revoked.ParticipantToken.Token)
	status := foxPoll[string](t, ff, 15*time.Second, "the refusal", `document.getElementById("status").textContent.startsWith("Could not join") && document.getElementById("status").textContent`)
	require.Contains(t, status, "refused")
	require.False(t, foxEval[bool](t, ff, `document.getElementById("join").disabled`))

	// /broadcast publishes from Firefox: Chromium sees it.
	ctxNav, cancelNav := context.WithTimeout(ctx, 20*time.Second)
	require.NoError(t, ff.tab.Navigate(ctxNav, s.MediaEndpoint()+"/broadcast"))
	cancelNav()
	foxEval[any](t, ff, `(() => {
		document.getElementById("token").value = `+jsString(token("firefox-broadcaster", both...))+`;
		document.getElementById("start").click();
	})()`)
	foxPoll[bool](t, ff, 20*time.Second, "broadcasting", `document.getElementById("status").textContent === "Broadcasting."`)
	poll[bool](t, cr, 30*time.Second, "firefox-broadcaster's video", tileReadyJS("firefox-broadcaster"))
	for _, m := range cr.console() {
		require.False(t, m.IsException(), "chromium: uncaught exception: %s", m)
	}
}

// The low-latency player (hls.js over Media Source Extensions) plays a live
// H.264 HLS stream in Firefox too, with its latency figures. (It sits here,
// beside the Firefox stage test, to keep the Firefox helpers in one file.)
func TestPlayerPlaysLiveHLSInFirefox(t *testing.T) {
	fox := bidi.Start(t, bidi.Options{})
	s := testutil.Start(t, "")
	src := liveHLS(t)
	f := newFoxTab(t, fox, "player")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, f.tab.Navigate(ctx, s.MediaEndpoint()+"/playback?url="+url.QueryEscape(src)))
	require.True(t, foxEval[bool](t, f, `typeof Hls === "function" && Hls.isSupported()`), "hls.js runs on Firefox's MSE")
	foxPoll[bool](t, f, 30*time.Second, "playback", `(() => {
		const v = window.stagecastPlayer.video;
		return v.videoWidth > 0 && v.currentTime > 1 && !v.paused;
	})()`)
	st := foxPoll[playerStats](t, f, 15*time.Second, "latency figures", `(() => {
		const s = window.stagecastPlayer.stats();
		return s.latency > 0 && s.pdtLatency !== null && s.rendition && s;
	})()`)
	t.Logf("firefox plays %s: latency %.2f s (hls.js), %.2f s (program date-time)", st.Rendition, *st.Latency, *st.PDTLatency)
	require.Less(t, *st.Latency, 20.0, "a live edge a few segments away")
	require.Greater(t, *st.PDTLatency, -2.0, "the program date-time is near now")
	t0 := foxEval[float64](t, f, `window.stagecastPlayer.video.currentTime`)
	foxPoll[bool](t, f, 10*time.Second, "the picture to advance", fmt.Sprintf(`window.stagecastPlayer.video.currentTime > %f + 1`, t0))
	require.Empty(t, f.tab.Errors(), "console errors on the player")
}

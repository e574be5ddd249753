package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

// decoding is what a page measures about one remote tile's video over two
// seconds.
type decoding struct {
	Width, Height            int
	Frames0, Frames1         int // frames shown: see framesShownJS
	Decoded0, Decoded1       int // inbound-rtp framesDecoded
	ParticipantID, UserLabel string
}

// framesShownJS is a page function counting the frames a video element has
// shown: getVideoPlaybackQuality().totalVideoFrames, except in Firefox,
// which leaves that at 0 for a MediaStream (srcObject) and counts the
// frames it painted in mozPaintedFrames.
const framesShownJS = `((v) => "mozPaintedFrames" in v ? v.mozPaintedFrames : v.getVideoPlaybackQuality().totalVideoFrames)`

// measureJS returns a page expression that finds the remote tile labelled
// label and measures its decoding over two seconds.
func measureJS(label string) string {
	return fmt.Sprintf(`(async () => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === %s);
		const v = tile.querySelector("video");
		const pc = window.stagecast.stage.peerConnectionFor(tile.dataset.participantId);
		const decoded = async () => {
			let n = 0;
			(await pc.getStats()).forEach(r => { if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded || 0; });
			return n;
		};
		const out = {width: v.videoWidth, height: v.videoHeight, participantId: tile.dataset.participantId,
			userLabel: tile.querySelector(".label").textContent,
			frames0: %[2]s(v), decoded0: await decoded()};
		await new Promise(r => setTimeout(r, 2000));
		out.frames1 = %[2]s(v);
		out.decoded1 = await decoded();
		return out;
	})()`, jsString(label), framesShownJS)
}

// tileReadyJS is truthy once the remote tile labelled label shows video.
func tileReadyJS(label string) string {
	return fmt.Sprintf(`(() => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === %s);
		const v = tile && tile.querySelector("video");
		return !!v && v.videoWidth > 0 && v.videoHeight > 0 && %[2]s(v) > 0;
	})()`, jsString(label), framesShownJS)
}

// remoteLabelsJS lists the labels of the remote tiles, sorted.
const remoteLabelsJS = `[...document.querySelectorAll(".tile.remote .label")].map(l => l.textContent).sort()`

// The IVS sample app's walk-through: two participants join a stage from
// two browser tabs and each sees the other's video, labelled; a third,
// subscribe-only token watches both without being seen; mute and leave
// reach the others.
func TestStageTwoParticipantsSeeEachOther(t *testing.T) {
	b := newBrowser(t)
	s := testutil.Start(t, "")
	ctx := context.Background()

	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("e2e-stage")})
	require.NoError(t, err)
	token := func(user string, caps ...rttypes.ParticipantTokenCapability) string {
		out, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
			StageArn: st.Stage.Arn, UserId: aws.String(user),
			Attributes:   map[string]string{"username": user},
			Capabilities: caps,
		})
		require.NoError(t, err)
		return *out.ParticipantToken.Token
	}
	both := []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish, rttypes.ParticipantTokenCapabilitySubscribe}
	tokens := map[string]string{
		"alice": token("alice", both...),
		"bob":   token("bob", both...),
		"carol": token("carol", rttypes.ParticipantTokenCapabilitySubscribe),
	}

	tabs := map[string]*tab{}
	joined := time.Now()
	for i, name := range []string{"alice", "bob"} {
		tb := b.tab(t, name, i == 0)
		tabs[name] = tb
		tb.run(t, 20*time.Second,
			chromedp.Navigate(s.MediaEndpoint()+"/stage"),
			chromedp.WaitVisible(chromedp.CSS("#join")),
			chromedp.SetValue(chromedp.CSS("#token"), tokens[name]),
			chromedp.Click(chromedp.CSS("#join")))
	}

	others := map[string]string{"alice": "bob", "bob": "alice"}
	for _, name := range []string{"alice", "bob"} {
		poll[bool](t, tabs[name], 30*time.Second, others[name]+"'s video", tileReadyJS(others[name]))
		t.Logf("%s shows %s's video %v after the tabs started joining", name, others[name], time.Since(joined).Round(time.Millisecond))
	}
	for name, other := range others {
		tb := tabs[name]
		require.Equal(t, []string{other}, eval[[]string](t, tb, remoteLabelsJS), "%s sees exactly one other tile", name)
		require.Equal(t, name+" (you)", eval[string](t, tb, `document.querySelector(".tile.local .label").textContent`))
		m := eval[decoding](t, tb, measureJS(other))
		t.Logf("%s sees %s: %dx%d, %d->%d frames shown, %d->%d decoded in 2 s", name, other, m.Width, m.Height, m.Frames0, m.Frames1, m.Decoded0, m.Decoded1)
		require.Positive(t, m.Width)
		require.Positive(t, m.Height)
		require.GreaterOrEqual(t, m.Frames1-m.Frames0, 10, "%s's video keeps playing on %s's page", other, name)
		require.GreaterOrEqual(t, m.Decoded1-m.Decoded0, 10, "%s's video keeps decoding on %s's page", other, name)
	}

	// A subscribe-only token watches: it sees both, publishes nothing, and
	// nobody gets a tile for it.
	carol := b.tab(t, "carol", false)
	carol.run(t, 20*time.Second,
		chromedp.Navigate(s.MediaEndpoint()+"/stage"),
		chromedp.WaitVisible(chromedp.CSS("#join")),
		chromedp.SetValue(chromedp.CSS("#token"), tokens["carol"]),
		chromedp.Click(chromedp.CSS("#join")))
	poll[bool](t, carol, 30*time.Second, "alice's and bob's video", tileReadyJS("alice")+" && "+tileReadyJS("bob"))
	require.Equal(t, 0, eval[int](t, carol, `document.querySelectorAll(".tile.local").length`), "a watcher has no local tile")
	require.Nil(t, eval[any](t, carol, `window.stagecast.stage.localStream`), "a watcher never opens the camera")
	require.True(t, eval[bool](t, carol, `document.getElementById("mute-audio").disabled && document.getElementById("mute-video").disabled`))
	for _, name := range []string{"alice", "bob"} {
		require.Equal(t, 1, eval[int](t, tabs[name], `document.querySelectorAll(".tile.remote").length`), "%s has no tile for the watcher", name)
	}

	// A dropped events socket is opened again and the page carries on
	// (the mute below travels on the new socket).
	eval[bool](t, tabs["alice"], `(() => { window.droppedSocket = window.stagecast.stage._ws; window.droppedSocket.close(); return true; })()`)
	poll[bool](t, tabs["alice"], 15*time.Second, "the events socket to reopen", `(() => {
		const ws = window.stagecast.stage && window.stagecast.stage._ws;
		return !!ws && ws !== window.droppedSocket && ws.readyState === WebSocket.OPEN;
	})()`)
	require.Equal(t, []string{"bob"}, eval[[]string](t, tabs["alice"], remoteLabelsJS), "alice still sees bob after the reconnect")

	// Mute reaches the others through the events socket.
	tabs["alice"].run(t, 10*time.Second, chromedp.Click(chromedp.CSS("#mute-audio")))
	flags := poll[string](t, tabs["bob"], 15*time.Second, "alice's muted flag", `(() => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === "alice");
		const f = tile && tile.querySelector(".flags").textContent;
		return f && f.includes("muted") && f;
	})()`)
	require.NotContains(t, flags, "video off")
	require.Equal(t, "Unmute audio", eval[string](t, tabs["alice"], `document.getElementById("mute-audio").textContent`))
	tabs["alice"].run(t, 10*time.Second, chromedp.Click(chromedp.CSS("#mute-video")))
	poll[bool](t, tabs["bob"], 15*time.Second, "alice's video-off flag", `(() => {
		const tile = [...document.querySelectorAll(".tile.remote")].find(t => t.querySelector(".label").textContent === "alice");
		return !!tile && tile.querySelector(".flags").textContent === "muted · video off";
	})()`)
	require.False(t, eval[bool](t, tabs["alice"], `window.stagecast.stage.localStream.getVideoTracks()[0].enabled`), "a stopped video sends black frames")

	// Leave Stage: alice's tile goes away on the other pages.
	tabs["alice"].run(t, 10*time.Second, chromedp.Click(chromedp.CSS("#leave")))
	require.Equal(t, 0, eval[int](t, tabs["alice"], `document.querySelectorAll(".tile").length`))
	poll[bool](t, tabs["bob"], 15*time.Second, "alice's tile to go", `document.querySelectorAll(".tile.remote").length === 0`)
	poll[bool](t, carol, 15*time.Second, "alice's tile to go", `(() => { const l = `+remoteLabelsJS+`; return l.length === 1 && l[0] === "bob"; })()`)

	// DisconnectParticipant ends bob's stage on his page, with the reason.
	bobID := eval[string](t, tabs["bob"], `window.stagecast.stage.self.participantId`)
	_, err = s.Realtime.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{
		StageArn: st.Stage.Arn, ParticipantId: aws.String(bobID), Reason: aws.String("show is over"),
	})
	require.NoError(t, err)
	status := poll[string](t, tabs["bob"], 15*time.Second, "the disconnect", `document.getElementById("status").textContent.startsWith("Left the stage") && document.getElementById("status").textContent`)
	require.Contains(t, status, "show is over")
	require.Equal(t, 0, eval[int](t, tabs["bob"], `document.querySelectorAll(".tile").length`))
	require.False(t, eval[bool](t, tabs["bob"], `document.getElementById("join").disabled`), "bob can join again")
	poll[bool](t, carol, 15*time.Second, "bob's tile to go", `document.querySelectorAll(".tile.remote").length === 0`)

	for name, tb := range map[string]*tab{"alice": tabs["alice"], "bob": tabs["bob"], "carol": carol} {
		for _, m := range tb.console() {
			require.False(t, m.IsException(), "%s: uncaught exception: %s", name, m)
		}
	}
}

// A simulcast publisher (/stage?simulcast=1) sends several video layers and
// the other participant receives and decodes one of them.
func TestStageSimulcastPublisher(t *testing.T) {
	b := newBrowser(t)
	s := testutil.Start(t, "")
	ctx := context.Background()
	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("e2e-simulcast")})
	require.NoError(t, err)
	both := []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish, rttypes.ParticipantTokenCapabilitySubscribe}
	join := func(tb *tab, user, query string) {
		out, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
			StageArn: st.Stage.Arn, UserId: aws.String(user), Capabilities: both,
		})
		require.NoError(t, err)
		tb.run(t, 20*time.Second,
			chromedp.Navigate(s.MediaEndpoint()+"/stage"+query),
			chromedp.WaitVisible(chromedp.CSS("#join")),
			chromedp.SetValue(chromedp.CSS("#token"), *out.ParticipantToken.Token),
			chromedp.Click(chromedp.CSS("#join")))
	}
	alice := b.tab(t, "alice", true)
	bob := b.tab(t, "bob", false)
	join(alice, "alice", "?simulcast=1")
	join(bob, "bob", "")

	poll[bool](t, bob, 30*time.Second, "alice's video", tileReadyJS("alice"))
	// The answer kept the three layers (a server refusing simulcast leaves
	// one), and layers with a rid are being sent; how many depends on the
	// capture size and on the machine's CPU, which Chrome adapts to.
	encodings := eval[[]string](t, alice, `window.stagecast.stage.publisherConnection.getSenders()
		.filter(s => s.track && s.track.kind === "video")[0].getParameters().encodings.map(e => e.rid).sort()`)
	require.Equal(t, []string{"f", "h", "q"}, encodings)
	layers := poll[[]string](t, alice, 15*time.Second, "layers sending", `(async () => {
		const rids = [];
		(await window.stagecast.stage.publisherConnection.getStats()).forEach(r => {
			if (r.type === "outbound-rtp" && r.kind === "video" && r.rid && r.framesEncoded > 0) rids.push(r.rid);
		});
		return rids.length > 0 && rids.sort();
	})()`)
	t.Logf("alice sends layers %v", layers)
	// The SFU starts a subscriber on one layer and moves up as its
	// bandwidth estimate grows; a switch waits for a key frame, so allow a
	// few windows for the picture to settle.
	var m decoding
	for range 5 {
		m = eval[decoding](t, bob, measureJS("alice"))
		t.Logf("bob sees alice: %dx%d, %d->%d decoded in 2 s", m.Width, m.Height, m.Decoded0, m.Decoded1)
		if m.Decoded1-m.Decoded0 >= 10 {
			break
		}
	}
	require.GreaterOrEqual(t, m.Decoded1-m.Decoded0, 10, "alice's simulcast video keeps decoding on bob's page")

	// alice leaves; dave publishes from /broadcast in her tab: bob sees him,
	// and the broadcast page subscribes to nobody.
	alice.run(t, 10*time.Second, chromedp.Click(chromedp.CSS("#leave")))
	poll[bool](t, bob, 15*time.Second, "alice's tile to go", `document.querySelectorAll(".tile.remote").length === 0`)
	out, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
		StageArn: st.Stage.Arn, UserId: aws.String("dave"), Capabilities: both,
	})
	require.NoError(t, err)
	alice.run(t, 20*time.Second,
		chromedp.Navigate(s.MediaEndpoint()+"/broadcast"),
		chromedp.WaitVisible(chromedp.CSS("#start")),
		chromedp.SetValue(chromedp.CSS("#token"), *out.ParticipantToken.Token),
		chromedp.Click(chromedp.CSS("#start")))
	poll[bool](t, alice, 20*time.Second, "broadcasting", `document.getElementById("status").textContent === "Broadcasting."`)
	poll[bool](t, bob, 30*time.Second, "dave's video", tileReadyJS("dave"))
	require.True(t, eval[bool](t, alice, `(() => {
		const st = window.stagecast.stage;
		const others = [...st.participants.values()];
		return others.length === 1 && others[0].userId === "bob" && st.peerConnectionFor(others[0].participantId) === null;
	})()`), "the broadcaster knows bob but does not subscribe to him")
}

package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

// The pages load in Chromium from the running node without a console error,
// the module exports its API, and it reads a token the API minted.
func TestPagesLoadInChromium(t *testing.T) {
	b := newBrowser(t)
	s := testutil.Start(t, "")
	ctx := context.Background()

	st, err := s.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("pages")})
	require.NoError(t, err)
	tok, err := s.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
		StageArn: st.Stage.Arn, UserId: aws.String("alice"),
		Attributes:   map[string]string{"username": "alice"},
		Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilitySubscribe},
	})
	require.NoError(t, err)

	t.Run("stage", func(t *testing.T) {
		tb := b.tab(t, "stage", true)
		tb.run(t, 20*time.Second, chromedp.Navigate(s.MediaEndpoint()+"/stage"), chromedp.WaitVisible(chromedp.CSS("#join")))

		exports := eval[[]string](t, tb, `import("/static/stagecast-stage.js").then(m => Object.keys(m).sort())`)
		require.Equal(t, []string{"Stage", "StageError", "decodeToken", "joinStage", "participantLabel"}, exports)

		type claims struct {
			ParticipantID string            `json:"participantId"`
			StageArn      string            `json:"stageArn"`
			StageID       string            `json:"stageId"`
			WhipURL       string            `json:"whipUrl"`
			EventsURL     string            `json:"eventsUrl"`
			UserID        string            `json:"userId"`
			Attributes    map[string]string `json:"attributes"`
			CanPublish    bool              `json:"canPublish"`
			CanSubscribe  bool              `json:"canSubscribe"`
			Label         string            `json:"label"`
		}
		got := eval[claims](t, tb, `import("/static/stagecast-stage.js").then(m => {
			const c = m.decodeToken(`+jsString(*tok.ParticipantToken.Token)+`);
			return {...c, label: m.participantLabel({userId: c.userId, attributes: c.attributes, participantId: c.participantId})};
		})`)
		require.Equal(t, claims{
			ParticipantID: *tok.ParticipantToken.ParticipantId,
			StageArn:      *st.Stage.Arn,
			StageID:       (*st.Stage.Arn)[strings.LastIndex(*st.Stage.Arn, "/")+1:],
			WhipURL:       s.MediaEndpoint() + "/whip",
			EventsURL:     "ws" + s.MediaEndpoint()[len("http"):] + "/events",
			UserID:        "alice",
			Attributes:    map[string]string{"username": "alice"},
			CanSubscribe:  true,
			Label:         "alice",
		}, got)

		labels := eval[[]string](t, tb, `import("/static/stagecast-stage.js").then(m => [
			m.participantLabel({participantId: "p1", userId: "u", attributes: {userId: "user-1", username: "n"}}),
			m.participantLabel({participantId: "p1", attributes: {username: "n"}}),
			m.participantLabel({participantId: "p1", attributes: {}}),
		])`)
		require.Equal(t, []string{"user-1", "n", "p1"}, labels, "the IVS sample's userId attribute names a tile first")

		// A pasted non-token is refused on the page, before any request.
		tb.run(t, 10*time.Second,
			chromedp.SetValue(chromedp.CSS("#token"), "not-a-token"),
			chromedp.Click(chromedp.CSS("#join")))
		status := poll[string](t, tb, 5*time.Second, "the refusal", `document.getElementById("status").classList.contains("error") && document.getElementById("status").textContent`)
		require.Contains(t, status, "not a participant token")
		require.Empty(t, tb.errors(), "console errors on /stage")

		// A revoked token is refused by the server: the page says so and
		// stays ready for another token.
		_, err := s.Realtime.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{
			StageArn: st.Stage.Arn, ParticipantId: tok.ParticipantToken.ParticipantId, Reason: aws.String("revoked"),
		})
		require.NoError(t, err)
		tb.run(t, 10*time.Second,
			chromedp.SetValue(chromedp.CSS("#token"), *tok.ParticipantToken.Token),
			chromedp.Click(chromedp.CSS("#join")))
		status = poll[string](t, tb, 15*time.Second, "the refusal", `document.getElementById("status").textContent.startsWith("Could not join") && document.getElementById("status").textContent`)
		require.Contains(t, status, "refused")
		require.False(t, eval[bool](t, tb, `document.getElementById("join").disabled`))
		require.Nil(t, eval[any](t, tb, `window.stagecast.stage`))
	})

	t.Run("playback", func(t *testing.T) {
		ch, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("offline")})
		require.NoError(t, err)
		channelID := (*ch.Channel.Arn)[strings.LastIndex(*ch.Channel.Arn, "/")+1:]
		tb := b.tab(t, "playback", false)
		tb.run(t, 20*time.Second, chromedp.Navigate(s.MediaEndpoint()+"/playback/"+channelID), chromedp.WaitVisible(chromedp.CSS("#video")))
		ok := eval[bool](t, tb, `typeof Hls === "function" && Hls.isSupported() && Hls.version === "1.7.4" && typeof window.stagecastPlayer.stats === "function"`)
		require.True(t, ok, "hls.js loads and supports MSE; the player app is up")
		require.Equal(t, *ch.Channel.PlaybackUrl, eval[string](t, tb, `document.getElementById("url").value`))
		// The channel is offline: the player says so and keeps retrying; the
		// failed playlist loads are network errors, not script errors.
		poll[string](t, tb, 15*time.Second, "the offline status", `document.getElementById("status").textContent.includes("retrying") && document.getElementById("status").textContent`)
		for _, e := range tb.errors() {
			require.Contains(t, e, *ch.Channel.PlaybackUrl, "only the offline channel's playlist fails: %s", e)
		}
	})
}

// jsString quotes s as a JavaScript string literal (JSON strings are).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

package signal_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/testutil"
)

// FuzzWHIPOffer posts arbitrary SDP offers to a live node's WHIP publish
// endpoint: each is answered (201, and the session is deleted again) or
// refused with a 4xx and a reason, never a 5xx, a hang or a crash.
func FuzzWHIPOffer(f *testing.F) {
	srv := testutil.Start(f, "")
	ctx := context.Background()
	st, err := srv.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	tok, err := srv.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn,
		UserId: aws.String("fuzz"), Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish}})
	if err != nil {
		f.Fatal(err)
	}
	token := aws.ToString(tok.ParticipantToken.Token)

	// Seeds: what a browser-like peer offers (audio, video, and video
	// with three simulcast layers), and a few broken ones.
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		f.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			f.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(offer.SDP)
	f.Add(offer.SDP + "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n")
	f.Add("")
	f.Add("v=0\r\n")
	f.Add("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n")

	client := &http.Client{Timeout: 20 * time.Second}
	f.Fuzz(func(t *testing.T, sdp string) {
		req, _ := http.NewRequest(http.MethodPost, srv.MediaEndpoint()+"/whip", bytes.NewBufferString(sdp))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("offer %q: %v", sdp, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusCreated:
			del, _ := http.NewRequest(http.MethodDelete, resp.Header.Get("Location"), nil)
			del.Header.Set("Authorization", "Bearer "+token)
			if dr, err := client.Do(del); err != nil || dr.StatusCode >= 300 {
				t.Fatalf("delete the session %s: %v %v", resp.Header.Get("Location"), dr, err)
			} else {
				dr.Body.Close()
			}
		case resp.StatusCode >= 500 || resp.StatusCode < 400 || len(body) == 0:
			t.Fatalf("offer %q: %d %q, want 201 or a 4xx with a reason", sdp, resp.StatusCode, body)
		}
	})
}

package signal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/pion/webrtc/v4"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
	"github.com/stagecast/stagecast/internal/webrtc/sfu"
)

func vp8Track(t *testing.T) *webrtc.TrackLocalStaticSample {
	t.Helper()
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "video", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// wantRefused checks a WHIP refusal's status and JSON error code.
func wantRefused(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var he *loadgen.HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("%s: got %v, want HTTP %d %s", what, err, status, code)
	}
	if he.Status != status || he.Code != code || !strings.Contains(he.Body, `"message"`) {
		t.Fatalf("%s: got %d %s (%s), want %d %s", what, he.Status, he.Code, he.Body, status, code)
	}
}

func p384(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestTokensAndCapabilitiesAreEnforced(t *testing.T) {
	st := newStage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	// Subscribe-only token cannot publish.
	subTok, _ := st.token("watcher", nil, rttypes.ParticipantTokenCapabilitySubscribe)
	_, err := st.client(subTok).Publish(ctx, vp8Track(t))
	wantRefused(t, "subscribe-only publish", err, http.StatusForbidden, "PUBLISH_NOT_ALLOWED")

	// A publish-only token cannot subscribe.
	pubOnly, _ := st.token("cam", nil, rttypes.ParticipantTokenCapabilityPublish)
	_, err = st.client(pubOnly).Subscribe(ctx, "nobody", func(*webrtc.TrackRemote, *webrtc.RTPReceiver) {})
	wantRefused(t, "publish-only subscribe", err, http.StatusForbidden, "SUBSCRIBE_NOT_ALLOWED")

	// Tokens signed offline with an imported key work; expired ones and
	// ones signed by an unknown key do not.
	imported := p384(t)
	der, err := x509.MarshalPKIXPublicKey(&imported.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.srv.Realtime.ImportPublicKey(ctx, &ivsrealtime.ImportPublicKeyInput{
		PublicKeyMaterial: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))}); err != nil {
		t.Fatalf("import public key: %v", err)
	}
	mint := func(key *ecdsa.PrivateKey, pid, stageARN string, iat, exp time.Time) string {
		tok, err := auth.NewTokenSigner(key, "").MintParticipant(auth.ParticipantClaims{ParticipantID: pid, StageARN: stageARN,
			StageID: stageARN[len(stageARN)-12:], Publish: true, Subscribe: true, IssuedAt: iat, ExpiresAt: exp})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	good := mint(imported, "offline-1", st.arn, now, now.Add(time.Hour))
	ev, err := st.client(good).Events(ctx, st.id)
	if err != nil {
		t.Fatalf("imported-key token refused: %v", err)
	}
	if snap, err := ev.Next(ctx, sfu.EventSnapshot); err != nil || snap.Self.ParticipantID != "offline-1" {
		t.Fatalf("snapshot: %+v %v", snap, err)
	}
	ev.Close()

	expired := mint(imported, "offline-2", st.arn, now.Add(-2*time.Hour), now.Add(-time.Hour))
	_, err = st.client(expired).Publish(ctx, vp8Track(t))
	wantRefused(t, "expired token", err, http.StatusUnauthorized, "TOKEN_EXPIRED")

	forged := mint(p384(t), "offline-3", st.arn, now, now.Add(time.Hour))
	_, err = st.client(forged).Publish(ctx, vp8Track(t))
	wantRefused(t, "forged token", err, http.StatusUnauthorized, "INVALID_SIGNATURE")
	_, err = st.client(forged).Events(ctx, st.id)
	var he *loadgen.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("forged token on events socket: %v", err)
	}

	// A token for another stage is refused on this stage's resources.
	other, err := st.srv.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	otherTok, err := st.srv.Realtime.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: other.Stage.Arn})
	if err != nil {
		t.Fatal(err)
	}
	wrong := st.client(aws.ToString(otherTok.ParticipantToken.Token))
	_, err = wrong.Events(ctx, st.id)
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("wrong-stage token on events socket: %v", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodDelete, st.srv.MediaEndpoint()+"/whip/"+st.id+"/x/y", nil)
	req.Header.Set("Authorization", "Bearer "+aws.ToString(otherTok.ParticipantToken.Token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong-stage DELETE: %d", resp.StatusCode)
	}

	// A disconnected participant is told, and cannot come back.
	tok, pid := st.token("kicked", nil)
	kev, err := st.client(tok).Events(ctx, st.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kev.Next(ctx, sfu.EventSnapshot); err != nil {
		t.Fatal(err)
	}
	if _, err := st.srv.Realtime.DisconnectParticipant(ctx, &ivsrealtime.DisconnectParticipantInput{
		StageArn: aws.String(st.arn), ParticipantId: aws.String(pid), Reason: aws.String("bye")}); err != nil {
		t.Fatalf("disconnect participant: %v", err)
	}
	if d, err := kev.Next(ctx, sfu.EventDisconnected); err != nil || d.Reason != "bye" {
		t.Fatalf("disconnected event: %+v %v", d, err)
	}
	kev.Drop()
	_, err = st.client(tok).Publish(ctx, vp8Track(t))
	wantRefused(t, "disconnected token", err, http.StatusUnauthorized, "PARTICIPANT_DISCONNECTED")

	// Twelve publishers fit, the thirteenth gets 409.
	var peers []*loadgen.Peer
	defer func() {
		for _, p := range peers {
			_ = p.Close(context.Background())
		}
	}()
	for i := range 12 {
		tok, _ := st.token("pub", nil)
		p, err := st.client(tok).Publish(ctx, vp8Track(t))
		if err != nil {
			t.Fatalf("publisher %d: %v", i+1, err)
		}
		peers = append(peers, p)
	}
	tok13, _ := st.token("pub13", nil)
	_, err = st.client(tok13).Publish(ctx, vp8Track(t))
	wantRefused(t, "13th publisher", err, http.StatusConflict, "PUBLISHER_LIMIT")
	// When one leaves, the next one fits.
	if err := peers[0].Close(ctx); err != nil {
		t.Fatalf("leave: %v", err)
	}
	peers = peers[1:]
	p, err := st.client(tok13).Publish(ctx, vp8Track(t))
	if err != nil {
		t.Fatalf("publisher after one left: %v", err)
	}
	peers = append(peers, p)
}

package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// BenchmarkCreateParticipantTokenHandler measures the control API's
// handler for one signed CreateParticipantToken, without the network:
// SigV4 verification, decoding, validation, minting (one ES384
// signature), encoding. Compare with auth's BenchmarkMintParticipant for
// the handler's cost beyond the signature.
func BenchmarkCreateParticipantTokenHandler(b *testing.B) {
	cfg := config.Default()
	cfg.DataDir = b.TempDir()
	cfg.API.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTMP.Listen, cfg.RTMPS.Listen, cfg.SRT.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	ctx := context.Background()
	a, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	st, err := a.Stages.CreateStage(ctx, &rtapi.CreateStageRequest{Name: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"stageArn": *st.Stage.Arn, "userId": "bench"})
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	creds := aws.Credentials{AccessKeyID: a.Credentials.ID, SecretAccessKey: a.Credentials.Secret}
	signer := v4.NewSigner()
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, a.APIEndpoint()+"/CreateParticipantToken", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if err := signer.SignHTTP(ctx, creds, r, hash, "ivs", cfg.Region, time.Now()); err != nil {
			b.Fatal(err)
		}
		return r
	}
	// One signed request is replayed: SigV4 has no nonce, and the time
	// stays within the allowed skew for the benchmark's length.
	r0 := req()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := r0.Clone(ctx)
		r.Body = nopBody{bytes.NewReader(body)}
		w := httptest.NewRecorder()
		a.api.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

type nopBody struct{ *bytes.Reader }

func (nopBody) Close() error { return nil }

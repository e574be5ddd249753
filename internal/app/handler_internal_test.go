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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/rtapi"
)

// handlerNode is a node whose control API handler is driven directly,
// without the network, with requests signed as the SDKs sign them.
type handlerNode struct {
	*App
	creds  aws.Credentials
	signer *v4.Signer
}

func newHandlerNode(tb testing.TB) *handlerNode {
	tb.Helper()
	cfg := config.Default()
	cfg.DataDir = tb.TempDir()
	cfg.API.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTMP.Listen, cfg.RTMPS.Listen, cfg.SRT.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close() })
	return &handlerNode{App: a, creds: aws.Credentials{AccessKeyID: a.Credentials.ID, SecretAccessKey: a.Credentials.Secret}, signer: v4.NewSigner()}
}

// request returns a signed POST of body to path.
func (n *handlerNode) request(tb testing.TB, path string, body []byte) *http.Request {
	tb.Helper()
	sum := sha256.Sum256(body)
	r := httptest.NewRequest(http.MethodPost, n.APIEndpoint()+path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := n.signer.SignHTTP(context.Background(), n.creds, r, hex.EncodeToString(sum[:]), "ivs", n.Config().Region, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return r
}

// BenchmarkCreateParticipantTokenHandler measures the control API's
// handler for one signed CreateParticipantToken, without the network:
// SigV4 verification, decoding, validation, minting (one ES384
// signature), encoding. Compare with auth's BenchmarkMintParticipant for
// the handler's cost beyond the signature.
func BenchmarkCreateParticipantTokenHandler(b *testing.B) {
	n := newHandlerNode(b)
	ctx := context.Background()
	st, err := n.Stages.CreateStage(ctx, &rtapi.CreateStageRequest{Name: aws.String("bench")})
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"stageArn": *st.Stage.Arn, "userId": "bench"})
	// One signed request is replayed: SigV4 has no nonce, and the time
	// stays within the allowed skew for the benchmark's length.
	r0 := n.request(b, "/CreateParticipantToken", body)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := r0.Clone(ctx)
		r.Body = nopBody{bytes.NewReader(body)}
		w := httptest.NewRecorder()
		n.api.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

type nopBody struct{ *bytes.Reader }

func (nopBody) Close() error { return nil }

// FuzzAPIBodies sends arbitrary signed bodies to every body-only operation
// of both APIs: the answer is a success or an AWS-shaped client error (an
// X-Amzn-ErrorType header, a JSON body with a message, a 4xx status),
// never a 5xx or a panic.
func FuzzAPIBodies(f *testing.F) {
	var paths []string
	for _, op := range ivsapi.Operations {
		if !strings.Contains(op.Path, "{") {
			paths = append(paths, op.Path)
		}
	}
	for _, op := range rtapi.Operations {
		if !strings.Contains(op.Path, "{") {
			paths = append(paths, op.Path)
		}
	}
	n := newHandlerNode(f)
	st, err := n.Stages.CreateStage(context.Background(), &rtapi.CreateStageRequest{Name: aws.String("fuzz")})
	if err != nil {
		f.Fatal(err)
	}
	arn := *st.Stage.Arn
	for i := range paths {
		f.Add(uint8(i), []byte(`{}`))
		f.Add(uint8(i), []byte(`{"arn":"`+arn+`","stageArn":"`+arn+`","name":"x","maxResults":2,"tags":{"a":"b"}}`))
	}
	f.Add(uint8(0), []byte(`{"arn":`))
	f.Add(uint8(1), []byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		path := paths[int(op)%len(paths)]
		w := httptest.NewRecorder()
		n.api.ServeHTTP(w, n.request(t, path, body))
		if w.Code < 300 {
			if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s: %d with a body that is not JSON: %q", path, w.Code, w.Body)
			}
			return
		}
		var e struct {
			Message *string `json:"message"`
		}
		if w.Code >= 500 || w.Header().Get("X-Amzn-ErrorType") == "" || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Message == nil {
			t.Fatalf("%s with %q: %d %v %q, want a 4xx AWS error", path, body, w.Code, w.Header(), w.Body)
		}
	})
}

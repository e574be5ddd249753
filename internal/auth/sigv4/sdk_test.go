package sigv4_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/auth/accesskey"
	"github.com/stagecast/stagecast/internal/auth/sigv4"
)

// seenRequest is what the test API server observed after verification.
type seenRequest struct {
	method, resourceARN, rawQuery, body string
	identity                            sigv4.Identity
}

// apiServer is a minimal IVS-shaped HTTP API whose handler calls Verify and
// answers errors the way the real server should (X-Amzn-ErrorType + __type).
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newAPIServer(t *testing.T, v *sigv4.Verifier) *apiServer {
	t.Helper()
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := v.Verify(r)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			var se *sigv4.Error
			if !errors.As(err, &se) {
				se = &sigv4.Error{Code: "InternalServerException", Status: http.StatusInternalServerError, Message: "internal error"}
			}
			w.Header().Set("X-Amzn-ErrorType", se.Code)
			w.WriteHeader(se.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": se.Code, "message": se.Message})
			return
		}
		seen := seenRequest{method: r.Method, rawQuery: r.URL.RawQuery, body: string(sigv4.Body(r)), identity: id}
		// Route on the escaped path: the ARN label contains %2F.
		if label, ok := strings.CutPrefix(r.URL.EscapedPath(), "/tags/"); ok {
			arn, err := url.PathUnescape(label)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			seen.resourceARN = arn
		}
		s.mu.Lock()
		s.seen = append(s.seen, seen)
		s.mu.Unlock()
		switch {
		case seen.resourceARN != "" && r.Method == http.MethodGet:
			_, _ = w.Write([]byte(`{"tags":{"env":"prod"}}`))
		case r.URL.Path == "/ListStages":
			_, _ = w.Write([]byte(`{"stages":[{"arn":"arn:aws:ivs:us-west-2:123456789012:stage/abcdABCDefgh","name":"s1"}]}`))
		default:
			_, _ = w.Write([]byte(`{}`))
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) last(t *testing.T) seenRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.NotEmpty(t, s.seen)
	return s.seen[len(s.seen)-1]
}

func sdkConfig(akid, secret, token string) aws.Config {
	return aws.Config{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
	}
}

func TestOfficialSDKClients(t *testing.T) {
	t.Parallel()
	v := sigv4.NewVerifier(staticCreds{testAKID: testSecret}, sigv4.Options{})
	srv := newAPIServer(t, v)
	ctx := context.Background()
	endpoint := func(o *ivs.Options) { o.BaseEndpoint = aws.String(srv.URL) }
	rtEndpoint := func(o *ivsrealtime.Options) { o.BaseEndpoint = aws.String(srv.URL) }

	for _, token := range []string{"", "IQoJb3JpZ2luX2VjEXAMPLE//session+token="} {
		name := "long-term credentials"
		if token != "" {
			name = "with session token"
		}
		t.Run(name, func(t *testing.T) {
			cfg := sdkConfig(testAKID, testSecret, token)
			client := ivs.NewFromConfig(cfg, endpoint)

			out, err := client.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String(channelARN)})
			require.NoError(t, err)
			require.Equal(t, map[string]string{"env": "prod"}, out.Tags)
			got := srv.last(t)
			require.Equal(t, channelARN, got.resourceARN)
			require.Equal(t, sigv4.Identity{AccessKeyID: testAKID, Region: testRegion}, sigv4.Identity{AccessKeyID: got.identity.AccessKeyID, Region: got.identity.Region})

			_, err = client.TagResource(ctx, &ivs.TagResourceInput{ResourceArn: aws.String(channelARN), Tags: map[string]string{"team": "a b/c"}})
			require.NoError(t, err)
			require.JSONEq(t, `{"tags":{"team":"a b/c"}}`, srv.last(t).body)

			_, err = client.UntagResource(ctx, &ivs.UntagResourceInput{ResourceArn: aws.String(channelARN), TagKeys: []string{"team", "a b/c", "x-y", "ü~"}})
			require.NoError(t, err)
			got = srv.last(t)
			require.Equal(t, http.MethodDelete, got.method)
			q, err := url.ParseQuery(got.rawQuery)
			require.NoError(t, err)
			require.ElementsMatch(t, []string{"team", "a b/c", "x-y", "ü~"}, q["tagKeys"])

			_, err = client.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("my-channel"), Tags: map[string]string{"k": "v"}})
			require.NoError(t, err)

			rt := ivsrealtime.NewFromConfig(cfg, rtEndpoint)
			stages, err := rt.ListStages(ctx, &ivsrealtime.ListStagesInput{MaxResults: aws.Int32(10)})
			require.NoError(t, err)
			require.Len(t, stages.Stages, 1)

			_, err = rt.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{
				StageArn:   aws.String("arn:aws:ivs:us-west-2:123456789012:stage/abcdABCDefgh"),
				UserId:     aws.String("user-1"),
				Attributes: map[string]string{"displayName": "Alice"},
			})
			require.NoError(t, err)
			require.Contains(t, srv.last(t).body, `"userId":"user-1"`)
		})
	}
}

func TestOfficialSDKRejected(t *testing.T) {
	t.Parallel()
	v := sigv4.NewVerifier(staticCreds{testAKID: testSecret}, sigv4.Options{})
	srv := newAPIServer(t, v)
	endpoint := func(o *ivs.Options) { o.BaseEndpoint = aws.String(srv.URL) }
	tests := []struct {
		name       string
		akid       string
		secret     string
		wantCode   string
		wantStatus int
	}{
		{name: "wrong secret", akid: testAKID, secret: "x" + testSecret[1:], wantCode: sigv4.CodeInvalidSignature, wantStatus: http.StatusForbidden},
		{name: "unknown access key", akid: "AKIAUNKNOWNKEY000000", secret: testSecret, wantCode: sigv4.CodeUnrecognizedClient, wantStatus: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := ivs.NewFromConfig(sdkConfig(tt.akid, tt.secret, ""), endpoint)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := client.ListTagsForResource(ctx, &ivs.ListTagsForResourceInput{ResourceArn: aws.String(channelARN)})
			require.Error(t, err)

			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.wantCode, apiErr.ErrorCode())
			require.NotEmpty(t, apiErr.ErrorMessage())

			var respErr *smithyhttp.ResponseError
			require.ErrorAs(t, err, &respErr)
			require.Equal(t, tt.wantStatus, respErr.HTTPStatusCode())
		})
	}
}

func TestOfficialSDKWithFileKeyring(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "keys.json")
	ring, err := accesskey.Open(path)
	require.NoError(t, err)
	srv := newAPIServer(t, sigv4.NewVerifier(ring, sigv4.Options{}))

	// `stagecast keys create` runs in another process while the server runs.
	cli, err := accesskey.Open(path)
	require.NoError(t, err)
	key, err := cli.Create("sdk test")
	require.NoError(t, err)

	client := ivsrealtime.NewFromConfig(sdkConfig(key.ID, key.Secret, ""), func(o *ivsrealtime.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
	listStages := func() error {
		_, err := client.ListStages(context.Background(), &ivsrealtime.ListStagesInput{})
		return err
	}
	require.Eventually(t, func() bool { return listStages() == nil }, 3*time.Second, 50*time.Millisecond,
		"a key created by another process must work without a restart")
	require.Equal(t, key.ID, srv.last(t).identity.AccessKeyID)

	require.NoError(t, cli.Delete(key.ID))
	require.Eventually(t, func() bool {
		var apiErr smithy.APIError
		return errors.As(listStages(), &apiErr) && apiErr.ErrorCode() == sigv4.CodeUnrecognizedClient
	}, 3*time.Second, 50*time.Millisecond, "a deleted key must stop working")
}

package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/testutil"
)

// TestMetricsCountAPIRequests: /metrics on the media listener counts the
// control API's answers by operation and status, and shows the live
// channels and the SFU's series.
func TestMetricsCountAPIRequests(t *testing.T) {
	s := testutil.Start(t, "")
	ctx := context.Background()
	for range 2 {
		_, err := s.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("m")})
		require.NoError(t, err)
	}
	_, err := s.IVS.GetChannel(ctx, &ivs.GetChannelInput{Arn: aws.String("arn:aws:ivs:us-east-1:123456789012:channel/abcdABCD1234")})
	require.Error(t, err)

	resp, err := http.Get(s.MediaEndpoint() + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := string(body)
	for _, want := range []string{
		`stagecast_api_requests_total{operation="CreateChannel",code="200"} 2`,
		`stagecast_api_requests_total{operation="GetChannel",code="404"} 1`,
		"stagecast_live_channels 0",
		`stagecast_sfu_forward_latency_seconds_bucket{le="+Inf"} 0`,
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, strings.ToLower(text), "secret")
}

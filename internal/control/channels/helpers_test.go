package channels_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/control/channels"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
	"github.com/stagecast/stagecast/internal/store/sqlite"
)

var testIdentity = model.Identity{
	Region:       "us-east-1",
	AccountID:    "123456789012",
	PublicHost:   "media.example.test",
	RTMPPort:     1935,
	RTMPSPort:    443,
	SRTPort:      9000,
	MediaBaseURL: "https://media.example.test",
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeLive is a LiveState whose live channels the test sets.
type fakeLive struct {
	mu       sync.Mutex
	streams  map[string]*ivsapi.Stream
	stopped  []string
	metadata map[string][]string
}

func newFakeLive() *fakeLive {
	return &fakeLive{streams: map[string]*ivsapi.Stream{}, metadata: map[string][]string{}}
}

func (f *fakeLive) GoLive(arn, health string) *ivsapi.Stream {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := &ivsapi.Stream{
		ChannelArn:  ptr(arn),
		StreamId:    ptr(model.NewStreamID()),
		StartTime:   ptr(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		State:       ptr(ivsapi.StreamStateLive),
		Health:      ptr(health),
		ViewerCount: ptr(int64(7)),
	}
	f.streams[arn] = st
	return st
}

func (f *fakeLive) IsLive(arn string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streams[arn] != nil
}

func (f *fakeLive) Stop(_ context.Context, arn string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = append(f.stopped, arn)
	delete(f.streams, arn)
	return nil
}

func (f *fakeLive) Stream(arn string) (*ivsapi.Stream, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.streams[arn]
	return st, ok
}

func (f *fakeLive) PutMetadata(_ context.Context, arn, payload string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.metadata[arn] = append(f.metadata[arn], payload)
	return nil
}

type env struct {
	svc   *channels.Service
	store store.Store
	live  *fakeLive
	clock *clock
}

// newEnv builds a service on a fresh SQLite store with a fake live state.
func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "stagecast.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	clk := &clock{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	svc := channels.New(control.Deps{Store: db, Identity: testIdentity, Now: clk.Now})
	live := newFakeLive()
	svc.SetLive(live)
	return &env{svc: svc, store: db, live: live, clock: clk}
}

func ptr[T any](v T) *T { return &v }

func (e *env) createChannel(t *testing.T, in *ivsapi.CreateChannelRequest) *ivsapi.CreateChannelResponse {
	t.Helper()
	if in == nil {
		in = &ivsapi.CreateChannelRequest{}
	}
	out, err := e.svc.CreateChannel(t.Context(), in)
	require.NoError(t, err)
	return out
}

func (e *env) createRecording(t *testing.T) string {
	t.Helper()
	out, err := e.svc.CreateRecordingConfiguration(t.Context(), &ivsapi.CreateRecordingConfigurationRequest{
		DestinationConfiguration: &ivsapi.DestinationConfiguration{S3: &ivsapi.S3DestinationConfiguration{BucketName: ptr("bucket-1")}},
	})
	require.NoError(t, err)
	return *out.RecordingConfiguration.Arn
}

func (e *env) createRestriction(t *testing.T) string {
	t.Helper()
	out, err := e.svc.CreatePlaybackRestrictionPolicy(t.Context(), &ivsapi.CreatePlaybackRestrictionPolicyRequest{})
	require.NoError(t, err)
	return *out.PlaybackRestrictionPolicy.Arn
}

func (e *env) createAdConfig(t *testing.T) string {
	t.Helper()
	out, err := e.svc.CreateAdConfiguration(t.Context(), &ivsapi.CreateAdConfigurationRequest{
		MediaTailorPlaybackConfigurations: []ivsapi.MediaTailorPlaybackConfiguration{
			{PlaybackConfigurationArn: ptr("arn:aws:mediatailor:us-east-1:123456789012:playbackConfiguration/cfg1")},
		},
	})
	require.NoError(t, err)
	return *out.AdConfiguration.Arn
}

// missingARN is a well-formed ARN of the given type that does not exist.
func missingARN(typ string) string { return testIdentity.ARN(typ, "doesNotExist") }

// Error-kind assertions.

func requireNotFound(t *testing.T, err error, resource string) {
	t.Helper()
	var nf *model.NotFoundError
	require.ErrorAs(t, err, &nf)
	if resource != "" {
		require.Contains(t, nf.Error(), resource)
	}
}

func requireConflict(t *testing.T, err error) {
	t.Helper()
	var cf *model.ConflictError
	require.ErrorAs(t, err, &cf)
}

func requireValidation(t *testing.T, err error) {
	t.Helper()
	var ve *wire.ValidationError
	require.ErrorAs(t, err, &ve)
}

func requireQuota(t *testing.T, err error) {
	t.Helper()
	var qe *model.QuotaError
	require.ErrorAs(t, err, &qe)
}

func requireNotBroadcasting(t *testing.T, err error) {
	t.Helper()
	var nb *model.NotBroadcastingError
	require.ErrorAs(t, err, &nb)
}

// errorKind names the model error type of err, for table tests.
func errorKind(err error) string {
	var (
		nf *model.NotFoundError
		cf *model.ConflictError
		ve *wire.ValidationError
		qe *model.QuotaError
		nb *model.NotBroadcastingError
		th *model.ThrottledError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &nf):
		return "NotFound"
	case errors.As(err, &cf):
		return "Conflict"
	case errors.As(err, &ve):
		return "Validation"
	case errors.As(err, &qe):
		return "Quota"
	case errors.As(err, &nb):
		return "NotBroadcasting"
	case errors.As(err, &th):
		return "Throttled"
	}
	return "other: " + err.Error()
}

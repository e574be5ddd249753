package channels

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store"
)

// Quotas: the IVS low-latency defaults (per account and region) where the
// IVS documentation states one; the others are Stagecast's choice, picked
// in the same range. All are enforced with ServiceQuotaExceededException.
const (
	// MaxChannels is the IVS default "Channels" quota.
	MaxChannels = 5000
	// MaxStreamKeysPerChannel is the IVS hard limit of one key per channel.
	MaxStreamKeysPerChannel = 1
	// MaxPlaybackKeyPairs is the IVS default "Playback key pairs" quota.
	MaxPlaybackKeyPairs = 3
	// MaxRecordingConfigurations is the IVS default "Recording
	// configurations" quota.
	MaxRecordingConfigurations = 20
	// MaxPlaybackRestrictionPolicies: Stagecast's choice (same as recording
	// configurations).
	MaxPlaybackRestrictionPolicies = 20
	// MaxAdConfigurations: Stagecast's choice (same as recording
	// configurations).
	MaxAdConfigurations = 20
)

// PutMetadata limits, from the PutMetadata documentation.
const (
	// MaxMetadataBytes is the largest PutMetadata payload ("1 KB").
	MaxMetadataBytes = 1024
	// MetadataTPSPerChannel and MetadataTPSPerAccount are the documented
	// request rates; calls beyond them get ThrottlingException.
	MetadataTPSPerChannel = 5
	MetadataTPSPerAccount = 155
)

// Default page sizes of the List operations, as the model documents them
// ("your service quota or 100, whichever is smaller" where it says so).
const (
	defaultChannelPage     = 100
	defaultStreamKeyPage   = 1 // model: "Default: 1"
	defaultStreamPage      = 100
	defaultSessionPage     = 100
	defaultKeyPairPage     = min(MaxPlaybackKeyPairs, 100)
	defaultRecordingPage   = min(MaxRecordingConfigurations, 100)
	defaultRestrictionPage = 1 // model: "Default: 1"
	defaultAdConfigPage    = min(MaxAdConfigurations, 100)
)

// maxAttempts bounds the retries of an optimistic read-modify-write that
// keeps losing to concurrent writers; after that the caller gets a
// ConflictException and may retry.
const maxAttempts = 16

// LiveState is what the service needs from the live (ingest) side: whether
// a channel is broadcasting, its current stream, and the actions on it.
// A nil LiveState means that nothing is live.
type LiveState interface {
	// IsLive reports whether the channel has an active stream.
	IsLive(channelARN string) bool
	// Stop disconnects the channel's ingest.
	Stop(ctx context.Context, channelARN string) error
	// Stream returns the channel's active stream.
	Stream(channelARN string) (*ivsapi.Stream, bool)
	// PutMetadata inserts timed metadata into the channel's stream.
	PutMetadata(ctx context.Context, channelARN, payload string) error
}

// liveHolder lets an interface value sit in an atomic.Pointer.
type liveHolder struct{ ls LiveState }

// Service implements every operation of the ivs (low-latency) API over the
// store. It is safe for concurrent use.
type Service struct {
	d       control.Deps
	tagger  control.Tagger
	live    atomic.Pointer[liveHolder]
	limiter *rateLimiter

	channels     control.Repo[channelDoc]
	streamKeys   control.Repo[streamKeyDoc]
	sessions     control.Repo[StreamSessionDoc]
	keyPairs     control.Repo[keyPairDoc]
	recordings   control.Repo[recordingDoc]
	restrictions control.Repo[restrictionDoc]
	adConfigs    control.Repo[adConfigDoc]
	revocations  control.Repo[revocationDoc]
}

var _ ivsapi.Service = (*Service)(nil)

// New builds the service. d.Store is required.
func New(d control.Deps) *Service {
	s := &Service{
		d: d,
		tagger: control.Tagger{Store: d.Store, Kinds: map[store.Kind]bool{
			store.KindChannel: true, store.KindStreamKey: true, store.KindPlaybackKey: true,
			store.KindRecordingConfiguration: true, store.KindPlaybackRestrictionPolicy: true,
			store.KindAdConfiguration: true,
		}},
		limiter:      newRateLimiter(MetadataTPSPerChannel, MetadataTPSPerAccount),
		channels:     control.Repo[channelDoc]{Kind: store.KindChannel, Store: d.Store},
		streamKeys:   control.Repo[streamKeyDoc]{Kind: store.KindStreamKey, Store: d.Store},
		sessions:     control.Repo[StreamSessionDoc]{Kind: store.KindStreamSession, Store: d.Store},
		keyPairs:     control.Repo[keyPairDoc]{Kind: store.KindPlaybackKey, Store: d.Store},
		recordings:   control.Repo[recordingDoc]{Kind: store.KindRecordingConfiguration, Store: d.Store},
		restrictions: control.Repo[restrictionDoc]{Kind: store.KindPlaybackRestrictionPolicy, Store: d.Store},
		adConfigs:    control.Repo[adConfigDoc]{Kind: store.KindAdConfiguration, Store: d.Store},
		revocations:  control.Repo[revocationDoc]{Kind: store.KindViewerRevocation, Store: d.Store},
	}
	return s
}

// SetLive installs the live state (nil: nothing is live). It may be called
// at any time, concurrently with requests.
func (s *Service) SetLive(ls LiveState) {
	if ls == nil {
		s.live.Store(nil)
		return
	}
	s.live.Store(&liveHolder{ls: ls})
}

// liveState returns the installed LiveState, or nil.
func (s *Service) liveState() LiveState {
	if h := s.live.Load(); h != nil {
		return h.ls
	}
	return nil
}

// isLive reports whether the channel is broadcasting.
func (s *Service) isLive(channelARN string) bool {
	ls := s.liveState()
	return ls != nil && ls.IsLive(channelARN)
}

// ListTagsForResource implements ivsapi.Service.
func (s *Service) ListTagsForResource(ctx context.Context, in *ivsapi.ListTagsForResourceRequest) (*ivsapi.ListTagsForResourceResponse, error) {
	tags, err := s.tagger.List(ctx, str(in.ResourceArn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.ListTagsForResourceResponse{Tags: tags}, nil
}

// TagResource implements ivsapi.Service.
func (s *Service) TagResource(ctx context.Context, in *ivsapi.TagResourceRequest) (*ivsapi.TagResourceResponse, error) {
	if err := s.tagger.Tag(ctx, str(in.ResourceArn), in.Tags); err != nil {
		return nil, err
	}
	return &ivsapi.TagResourceResponse{}, nil
}

// UntagResource implements ivsapi.Service.
func (s *Service) UntagResource(ctx context.Context, in *ivsapi.UntagResourceRequest) (*ivsapi.UntagResourceResponse, error) {
	if err := s.tagger.Untag(ctx, str(in.ResourceArn), in.TagKeys); err != nil {
		return nil, err
	}
	return &ivsapi.UntagResourceResponse{}, nil
}

// checkQuota fails with a QuotaError when kind already has limit records
// (under parent when parent is not "").
func (s *Service) checkQuota(ctx context.Context, kind store.Kind, parent, quota string, limit int) error {
	return control.CheckQuota(ctx, s.d.Store, kind, parent, quota, limit)
}

// guard returns a write that re-saves rec unchanged but fails the whole
// Apply if rec was deleted (ErrNotFound) or changed (ErrStale) since it was
// read. Writes that depend on another record existing (a channel that
// references a recording configuration) carry a guard of it, and deletes of
// referenced records guard themselves, so neither can slip past the other.
func guard(rec *store.Record) store.Op {
	return store.Op{Type: store.OpUpdate, Record: rec}
}

// retryable reports whether an Apply lost a race that a fresh read may win.
func retryable(err error) bool {
	return errors.Is(err, store.ErrStale) || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists)
}

// busy is the error returned when an optimistic write kept losing races.
func busy(resource string) error {
	return model.Conflict("Resource %s was modified concurrently; retry the request", resource)
}

// newRecord builds a record for doc with the given indexing columns.
func newRecord[T any](kind store.Kind, key, parent string, doc *T, tags map[string]string) (*store.Record, error) {
	rec, err := control.NewRecord(kind, key, doc)
	if err != nil {
		return nil, err
	}
	rec.Parent = parent
	if len(tags) > 0 {
		rec.Tags = make(map[string]string, len(tags))
		for k, v := range tags {
			rec.Tags[k] = v
		}
	}
	return rec, nil
}

// deleteGuarded deletes key after checking, with refCheck, that nothing
// references it; the check and the delete are tied together by a guard so
// that a reference created in between makes the delete retry.
func (s *Service) deleteGuarded(ctx context.Context, kind store.Kind, key string, refCheck func(ctx context.Context) error) error {
	for range maxAttempts {
		rec, err := s.d.Store.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Kind != kind) {
			return model.NotFound(key)
		}
		if err != nil {
			return err
		}
		if refCheck != nil {
			if err := refCheck(ctx); err != nil {
				return err
			}
		}
		err = s.d.Store.Apply(ctx, guard(rec), store.Op{Type: store.OpDelete, Key: key})
		if err == nil || !retryable(err) {
			return err
		}
	}
	return busy(key)
}

// referencedBy fails with a ConflictException when a channel carries the
// attribute name=arn.
func (s *Service) referencedBy(name, arn, what string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindChannel, Attrs: []store.Attr{{Name: name, Value: arn}}, Limit: 1})
		if err != nil {
			return fmt.Errorf("list channels using %s: %w", arn, err)
		}
		if len(page.Records) > 0 {
			return model.Conflict("%s %s is used by channel %s", what, arn, page.Records[0].Key)
		}
		return nil
	}
}

// str dereferences an optional string ("" when absent).
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// orDefault returns *p, or def when p is nil or points to "".
func orDefault(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}

package stages

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"sync"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/store"
)

// Quotas (IVS real-time defaults).
const (
	MaxStages                 = 100 // stages per account
	MaxEncoderConfigurations  = 20
	MaxStorageConfigurations  = 20
	MaxConcurrentCompositions = 5
	MaxPublicKeys             = 3
	MaxIngestConfigurations   = 100
	MaxTokensAtCreateStage    = 12
)

// signerTTL bounds how long a cached stage signer is trusted before the
// stage is looked up again (a stage deleted through another node stops
// minting within this time).
const signerTTL = 10 * time.Second

// Compositor runs composition media (issue: server-side composition).
type Compositor interface {
	// Start begins mixing; state changes are reported back through
	// Service.SetCompositionState.
	Start(ctx context.Context, c *rtapi.Composition) error
	// Stop ends a running composition.
	Stop(ctx context.Context, arn string) error
}

// Media is the SFU side the control plane tells about disconnections.
type Media interface {
	Disconnect(ctx context.Context, stageARN, participantID, reason string) error
}

// Service implements rtapi.Service.
type Service struct {
	d      control.Deps
	tagger control.Tagger

	stages       control.Repo[stageDoc]
	encoders     control.Repo[rtapi.EncoderConfiguration]
	storages     control.Repo[rtapi.StorageConfiguration]
	publicKeys   control.Repo[publicKeyDoc]
	ingests      control.Repo[rtapi.IngestConfiguration]
	compositions control.Repo[rtapi.Composition]
	sessions     control.Repo[rtapi.StageSession]
	participants control.Repo[rtapi.Participant]
	events       control.Repo[rtapi.Event]
	replicas     control.Repo[rtapi.ParticipantReplica]

	// mu guards signers, compositor and media.
	mu         sync.Mutex
	signers    map[string]cachedSigner
	compositor Compositor
	media      Media
}

type cachedSigner struct {
	signer   *auth.TokenSigner
	pub      *ecdsa.PublicKey
	stageID  string
	loadedAt time.Time
}

var _ rtapi.Service = (*Service)(nil)

// New returns a ready Service.
func New(d control.Deps) *Service {
	s := d.Store
	return &Service{
		d: d,
		tagger: control.Tagger{Store: s, Kinds: map[store.Kind]bool{
			store.KindStage: true, store.KindComposition: true, store.KindEncoderConfiguration: true,
			store.KindStorageConfiguration: true, store.KindPublicKey: true, store.KindIngestConfiguration: true,
		}},
		stages:       control.Repo[stageDoc]{Kind: store.KindStage, Store: s},
		encoders:     control.Repo[rtapi.EncoderConfiguration]{Kind: store.KindEncoderConfiguration, Store: s},
		storages:     control.Repo[rtapi.StorageConfiguration]{Kind: store.KindStorageConfiguration, Store: s},
		publicKeys:   control.Repo[publicKeyDoc]{Kind: store.KindPublicKey, Store: s},
		ingests:      control.Repo[rtapi.IngestConfiguration]{Kind: store.KindIngestConfiguration, Store: s},
		compositions: control.Repo[rtapi.Composition]{Kind: store.KindComposition, Store: s},
		sessions:     control.Repo[rtapi.StageSession]{Kind: store.KindStageSession, Store: s},
		participants: control.Repo[rtapi.Participant]{Kind: store.KindParticipant, Store: s},
		events:       control.Repo[rtapi.Event]{Kind: store.KindParticipantEvent, Store: s},
		replicas:     control.Repo[rtapi.ParticipantReplica]{Kind: store.KindParticipantReplication, Store: s},
		signers:      map[string]cachedSigner{},
	}
}

// SetCompositor attaches the composition engine.
func (s *Service) SetCompositor(c Compositor) {
	s.mu.Lock()
	s.compositor = c
	s.mu.Unlock()
}

// SetMedia attaches the SFU.
func (s *Service) SetMedia(m Media) {
	s.mu.Lock()
	s.media = m
	s.mu.Unlock()
}

func (s *Service) attached() (Compositor, Media) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.compositor, s.media
}

// ListTagsForResource implements rtapi.Service.
func (s *Service) ListTagsForResource(ctx context.Context, in *rtapi.ListTagsForResourceRequest) (*rtapi.ListTagsForResourceResponse, error) {
	tags, err := s.tagger.List(ctx, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &rtapi.ListTagsForResourceResponse{Tags: tags}, nil
}

// TagResource implements rtapi.Service.
func (s *Service) TagResource(ctx context.Context, in *rtapi.TagResourceRequest) (*rtapi.TagResourceResponse, error) {
	return &rtapi.TagResourceResponse{}, s.tagger.Tag(ctx, *in.ResourceArn, in.Tags)
}

// UntagResource implements rtapi.Service.
func (s *Service) UntagResource(ctx context.Context, in *rtapi.UntagResourceRequest) (*rtapi.UntagResourceResponse, error) {
	return &rtapi.UntagResourceResponse{}, s.tagger.Untag(ctx, *in.ResourceArn, in.TagKeys)
}

// quota returns a QuotaError when kind already has limit records.
func (s *Service) quota(ctx context.Context, kind store.Kind, name string, limit int) error {
	return control.CheckQuota(ctx, s.d.Store, kind, "", name, limit)
}

// exists reports a NotFoundError when key is not a record of kind.
func (s *Service) exists(ctx context.Context, kind store.Kind, key string) error {
	rec, err := s.d.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && rec.Kind != kind) {
		return model.NotFound(key)
	}
	return err
}

func str(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

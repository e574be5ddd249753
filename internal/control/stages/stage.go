package stages

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"time"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// stageDoc is what the store keeps for a stage: the API shape (without
// tags, endpoints and session, which are derived) plus its signing key.
type stageDoc struct {
	Stage      rtapi.Stage `json:"stage"`
	SigningKey string      `json:"signingKey"` // PEM private key (P-384)
}

func (s *Service) endpoints() *rtapi.StageEndpoints {
	id := s.d.Identity
	return &rtapi.StageEndpoints{
		Whip:   str(id.WhipURL()),
		Events: str(id.EventsURL()),
		Rtmp:   str(id.RTMPURL()),
		Rtmps:  str(id.RTMPSURL()),
	}
}

// present fills a stage's derived fields for output.
func (s *Service) present(ctx context.Context, it control.Item[stageDoc]) (*rtapi.Stage, error) {
	st := it.Doc.Stage
	st.Tags = control.TagsOf(it.Rec)
	st.Endpoints = s.endpoints()
	active, err := s.activeSession(ctx, *st.Arn)
	if err != nil {
		return nil, err
	}
	if active != "" {
		st.ActiveSessionId = &active
	}
	return &st, nil
}

func defaultAutoRecording(in *rtapi.AutoParticipantRecordingConfiguration) *rtapi.AutoParticipantRecordingConfiguration {
	out := rtapi.AutoParticipantRecordingConfiguration{StorageConfigurationArn: str("")}
	if in != nil {
		out = *in
	}
	if out.MediaTypes == nil {
		out.MediaTypes = []string{rtapi.ParticipantRecordingMediaTypeAudioVideo}
	}
	if out.ThumbnailConfiguration == nil {
		out.ThumbnailConfiguration = &rtapi.ParticipantThumbnailConfiguration{}
	}
	tc := out.ThumbnailConfiguration
	if tc.TargetIntervalSeconds == nil {
		tc.TargetIntervalSeconds = ptr[int64](60)
	}
	if tc.Storage == nil {
		tc.Storage = []string{rtapi.ThumbnailStorageTypeSequential}
	}
	if tc.RecordingMode == nil {
		tc.RecordingMode = str(rtapi.ThumbnailRecordingModeDisabled)
	}
	if out.RecordingReconnectWindowSeconds == nil {
		out.RecordingReconnectWindowSeconds = ptr[int64](0)
	}
	if out.HlsConfiguration == nil {
		out.HlsConfiguration = &rtapi.ParticipantRecordingHlsConfiguration{}
	}
	if out.HlsConfiguration.TargetSegmentDurationSeconds == nil {
		out.HlsConfiguration.TargetSegmentDurationSeconds = ptr[int64](6)
	}
	if out.RecordParticipantReplicas == nil {
		out.RecordParticipantReplicas = ptr(true)
	}
	return &out
}

func ptr[T any](v T) *T { return &v }

func (s *Service) checkAutoRecording(ctx context.Context, c *rtapi.AutoParticipantRecordingConfiguration) error {
	if c == nil || deref(c.StorageConfigurationArn) == "" {
		return nil
	}
	return s.exists(ctx, store.KindStorageConfiguration, *c.StorageConfigurationArn)
}

// CreateStage implements rtapi.Service.
func (s *Service) CreateStage(ctx context.Context, in *rtapi.CreateStageRequest) (*rtapi.CreateStageResponse, error) {
	if len(in.ParticipantTokenConfigurations) > MaxTokensAtCreateStage {
		return nil, wire.Invalid("participantTokenConfigurations", fmt.Sprintf("Member must have length less than or equal to %d", MaxTokensAtCreateStage))
	}
	if err := s.checkAutoRecording(ctx, in.AutoParticipantRecordingConfiguration); err != nil {
		return nil, err
	}
	if err := s.quota(ctx, store.KindStage, "stages per account", MaxStages); err != nil {
		return nil, err
	}
	key, err := auth.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("create stage: %w", err)
	}
	keyPEM, err := auth.MarshalPrivateKeyPEM(key)
	if err != nil {
		return nil, fmt.Errorf("create stage: %w", err)
	}
	id := model.NewResourceID()
	arn := s.d.Identity.ARN("stage", id)
	doc := &stageDoc{
		Stage: rtapi.Stage{
			Arn:                                   str(arn),
			Name:                                  str(deref(in.Name)),
			AutoParticipantRecordingConfiguration: defaultAutoRecording(in.AutoParticipantRecordingConfiguration),
		},
		SigningKey: string(keyPEM),
	}
	rec, err := control.NewRecord(store.KindStage, arn, doc)
	if err != nil {
		return nil, err
	}
	rec.Tags = in.Tags
	rec.Attrs = []store.Attr{{Name: "name", Value: deref(in.Name)}}
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, fmt.Errorf("create stage: %w", err)
	}
	s.cacheSigner(arn, id, key)
	out, err := s.present(ctx, control.Item[stageDoc]{Doc: doc, Rec: rec})
	if err != nil {
		return nil, err
	}
	resp := &rtapi.CreateStageResponse{Stage: out}
	for i := range in.ParticipantTokenConfigurations {
		c := &in.ParticipantTokenConfigurations[i]
		tok, err := s.mint(ctx, arn, c.Duration, c.UserId, c.Attributes, c.Capabilities, fmt.Sprintf("participantTokenConfigurations[%d]", i))
		if err != nil {
			return nil, err
		}
		resp.ParticipantTokens = append(resp.ParticipantTokens, *tok)
	}
	return resp, nil
}

// GetStage implements rtapi.Service.
func (s *Service) GetStage(ctx context.Context, in *rtapi.GetStageRequest) (*rtapi.GetStageResponse, error) {
	it, err := s.stages.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	st, err := s.present(ctx, it)
	if err != nil {
		return nil, err
	}
	return &rtapi.GetStageResponse{Stage: st}, nil
}

// UpdateStage implements rtapi.Service.
func (s *Service) UpdateStage(ctx context.Context, in *rtapi.UpdateStageRequest) (*rtapi.UpdateStageResponse, error) {
	if err := s.checkAutoRecording(ctx, in.AutoParticipantRecordingConfiguration); err != nil {
		return nil, err
	}
	it, err := s.stages.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	if in.Name != nil {
		it.Doc.Stage.Name = in.Name
		it.Rec.Attrs = []store.Attr{{Name: "name", Value: *in.Name}}
	}
	if in.AutoParticipantRecordingConfiguration != nil {
		it.Doc.Stage.AutoParticipantRecordingConfiguration = defaultAutoRecording(in.AutoParticipantRecordingConfiguration)
	}
	if err := control.Encode(it.Rec, it.Doc); err != nil {
		return nil, err
	}
	if err := store.Update(ctx, s.d.Store, it.Rec); err != nil {
		return nil, conflictOnStale(err, *in.Arn)
	}
	st, err := s.present(ctx, it)
	if err != nil {
		return nil, err
	}
	return &rtapi.UpdateStageResponse{Stage: st}, nil
}

// DeleteStage implements rtapi.Service. It disconnects everyone, stops the
// stage's compositions and deletes its sessions, participants and events.
func (s *Service) DeleteStage(ctx context.Context, in *rtapi.DeleteStageRequest) (*rtapi.DeleteStageResponse, error) {
	if _, err := s.stages.Get(ctx, *in.Arn); err != nil {
		return nil, err
	}
	if err := s.stopStageCompositions(ctx, *in.Arn, "stage deleted"); err != nil {
		return nil, err
	}
	if _, media := s.attached(); media != nil {
		parts, _, err := s.participants.List(ctx, store.Query{Attrs: []store.Attr{{Name: "stageArn", Value: *in.Arn}, {Name: "state", Value: rtapi.ParticipantStateConnected}}}, nil, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, p := range parts {
			if err := media.Disconnect(ctx, *in.Arn, deref(p.Doc.ParticipantId), "stage deleted"); err != nil {
				s.d.Logger().Warn("disconnect participant on stage delete", "stage_arn", *in.Arn, "participant_id", deref(p.Doc.ParticipantId), "err", err)
			}
		}
	}
	if err := store.Delete(ctx, s.d.Store, *in.Arn); err != nil {
		return nil, notFoundOr(err, *in.Arn)
	}
	s.mu.Lock()
	delete(s.signers, *in.Arn)
	s.mu.Unlock()
	return &rtapi.DeleteStageResponse{}, nil
}

// ListStages implements rtapi.Service.
func (s *Service) ListStages(ctx context.Context, in *rtapi.ListStagesRequest) (*rtapi.ListStagesResponse, error) {
	items, next, err := s.stages.List(ctx, store.Query{}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListStagesResponse{Stages: []rtapi.StageSummary{}, NextToken: next}
	for _, it := range items {
		st, err := s.present(ctx, it)
		if err != nil {
			return nil, err
		}
		out.Stages = append(out.Stages, rtapi.StageSummary{Arn: st.Arn, Name: st.Name, ActiveSessionId: st.ActiveSessionId, Tags: st.Tags})
	}
	return out, nil
}

func (s *Service) cacheSigner(arn, id string, key *ecdsa.PrivateKey) cachedSigner {
	c := cachedSigner{signer: auth.NewTokenSigner(key, arn+"#signing"), pub: &key.PublicKey, stageID: id, loadedAt: time.Now()}
	s.mu.Lock()
	s.signers[arn] = c
	s.mu.Unlock()
	return c
}

// signer returns the stage's token signer, from the cache when fresh.
func (s *Service) signer(ctx context.Context, stageARN string) (cachedSigner, error) {
	s.mu.Lock()
	c, ok := s.signers[stageARN]
	s.mu.Unlock()
	if ok && time.Since(c.loadedAt) < signerTTL {
		return c, nil
	}
	it, err := s.stages.Get(ctx, stageARN)
	if err != nil {
		s.mu.Lock()
		delete(s.signers, stageARN)
		s.mu.Unlock()
		return cachedSigner{}, err
	}
	if ok {
		c.loadedAt = time.Now()
		s.mu.Lock()
		s.signers[stageARN] = c
		s.mu.Unlock()
		return c, nil
	}
	key, err := auth.ParsePrivateKeyPEM([]byte(it.Doc.SigningKey))
	if err != nil {
		return cachedSigner{}, fmt.Errorf("stage %s signing key: %w", stageARN, err)
	}
	return s.cacheSigner(stageARN, model.ResourceID(stageARN), key), nil
}

// StagePublicKey returns the public key that verifies the stage's
// participant tokens, as PEM.
func (s *Service) StagePublicKey(ctx context.Context, stageARN string) (string, error) {
	c, err := s.signer(ctx, stageARN)
	if err != nil {
		return "", err
	}
	return auth.MarshalPublicKeyPEM(c.pub)
}

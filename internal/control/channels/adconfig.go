package channels

import (
	"context"
	"slices"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store"
)

// defaultPostRollSeconds is the model's default postRollConfiguration
// duration ({enabled: false, durationSeconds: 15}).
const defaultPostRollSeconds = 15

// adConfigDoc is a stored ad configuration. Stagecast keeps and returns it
// so that tooling round-trips, but cannot insert ads (see InsertAdBreak).
type adConfigDoc struct {
	Name                              string                                    `json:"name"`
	MediaTailorPlaybackConfigurations []ivsapi.MediaTailorPlaybackConfiguration `json:"mediaTailorPlaybackConfigurations"`
	PostRollEnabled                   bool                                      `json:"postRollEnabled"`
	PostRollDurationSeconds           int64                                     `json:"postRollDurationSeconds"`
}

func (d *adConfigDoc) setPostRoll(p *ivsapi.PostRollConfiguration) {
	d.PostRollEnabled = p.Enabled != nil && *p.Enabled
	d.PostRollDurationSeconds = defaultPostRollSeconds
	if p.DurationSeconds != nil {
		d.PostRollDurationSeconds = *p.DurationSeconds
	}
}

func (d *adConfigDoc) out(rec *store.Record) *ivsapi.AdConfiguration {
	return &ivsapi.AdConfiguration{
		Arn:                               ptr(rec.Key),
		Name:                              ptr(d.Name),
		MediaTailorPlaybackConfigurations: mediaTailorList(d.MediaTailorPlaybackConfigurations),
		PostRollConfiguration: &ivsapi.PostRollConfiguration{
			Enabled:         ptr(d.PostRollEnabled),
			DurationSeconds: ptr(d.PostRollDurationSeconds),
		},
		Tags: control.TagsOf(rec),
	}
}

func mediaTailorList(l []ivsapi.MediaTailorPlaybackConfiguration) []ivsapi.MediaTailorPlaybackConfiguration {
	if l == nil {
		return []ivsapi.MediaTailorPlaybackConfiguration{}
	}
	return slices.Clone(l)
}

// CreateAdConfiguration implements ivsapi.Service.
func (s *Service) CreateAdConfiguration(ctx context.Context, in *ivsapi.CreateAdConfigurationRequest) (*ivsapi.CreateAdConfigurationResponse, error) {
	if err := s.checkQuota(ctx, store.KindAdConfiguration, "", "ad configurations", MaxAdConfigurations); err != nil {
		return nil, err
	}
	doc := &adConfigDoc{
		Name:                              str(in.Name),
		MediaTailorPlaybackConfigurations: mediaTailorList(in.MediaTailorPlaybackConfigurations),
		PostRollDurationSeconds:           defaultPostRollSeconds,
	}
	if in.PostRollConfiguration != nil {
		doc.setPostRoll(in.PostRollConfiguration)
	}
	arn := s.d.Identity.ARN(string(store.KindAdConfiguration), model.NewResourceID())
	rec, err := newRecord(store.KindAdConfiguration, arn, "", doc, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, err
	}
	return &ivsapi.CreateAdConfigurationResponse{AdConfiguration: doc.out(rec)}, nil
}

// GetAdConfiguration implements ivsapi.Service.
func (s *Service) GetAdConfiguration(ctx context.Context, in *ivsapi.GetAdConfigurationRequest) (*ivsapi.GetAdConfigurationResponse, error) {
	it, err := s.adConfigs.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetAdConfigurationResponse{AdConfiguration: it.Doc.out(it.Rec)}, nil
}

// UpdateAdConfiguration implements ivsapi.Service. Absent members keep
// their value.
func (s *Service) UpdateAdConfiguration(ctx context.Context, in *ivsapi.UpdateAdConfigurationRequest) (*ivsapi.UpdateAdConfigurationResponse, error) {
	arn := str(in.Arn)
	for range maxAttempts {
		it, err := s.adConfigs.Get(ctx, arn)
		if err != nil {
			return nil, err
		}
		doc := it.Doc
		if in.Name != nil {
			doc.Name = *in.Name
		}
		if in.MediaTailorPlaybackConfigurations != nil {
			doc.MediaTailorPlaybackConfigurations = mediaTailorList(in.MediaTailorPlaybackConfigurations)
		}
		if in.PostRollConfiguration != nil {
			doc.setPostRoll(in.PostRollConfiguration)
		}
		if err := control.Encode(it.Rec, doc); err != nil {
			return nil, err
		}
		err = store.Update(ctx, s.d.Store, it.Rec)
		if err == nil {
			return &ivsapi.UpdateAdConfigurationResponse{AdConfiguration: doc.out(it.Rec)}, nil
		}
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, busy(arn)
}

// DeleteAdConfiguration implements ivsapi.Service: ConflictException while
// a channel references it.
func (s *Service) DeleteAdConfiguration(ctx context.Context, in *ivsapi.DeleteAdConfigurationRequest) error {
	arn := str(in.Arn)
	return s.deleteGuarded(ctx, store.KindAdConfiguration, arn, s.referencedBy(attrAdConfig, arn, "Ad configuration"))
}

// ListAdConfigurations implements ivsapi.Service.
func (s *Service) ListAdConfigurations(ctx context.Context, in *ivsapi.ListAdConfigurationsRequest) (*ivsapi.ListAdConfigurationsResponse, error) {
	items, next, err := s.adConfigs.List(ctx, store.Query{}, in.NextToken, in.MaxResults, defaultAdConfigPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListAdConfigurationsResponse{AdConfigurations: make([]ivsapi.AdConfigurationSummary, 0, len(items)), NextToken: next}
	for _, it := range items {
		a := it.Doc.out(it.Rec)
		out.AdConfigurations = append(out.AdConfigurations, ivsapi.AdConfigurationSummary{
			Arn:                               a.Arn,
			Name:                              a.Name,
			MediaTailorPlaybackConfigurations: a.MediaTailorPlaybackConfigurations,
			PostRollConfiguration:             a.PostRollConfiguration,
			Tags:                              a.Tags,
		})
	}
	return out, nil
}

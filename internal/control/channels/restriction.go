package channels

import (
	"context"
	"slices"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/ivsapi"
	"github.com/stagecast/stagecast/internal/store"
)

// restrictionDoc is a stored playback restriction policy. Empty lists mean
// "all countries" / "all origins".
type restrictionDoc struct {
	Name                          string   `json:"name"`
	AllowedCountries              []string `json:"allowedCountries"`
	AllowedOrigins                []string `json:"allowedOrigins"`
	EnableStrictOriginEnforcement bool     `json:"enableStrictOriginEnforcement"`
}

// cloneList copies a list, never returning nil (the lists are required
// output members).
func cloneList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return slices.Clone(l)
}

func restrictionOut(rec *store.Record, doc *restrictionDoc) *ivsapi.PlaybackRestrictionPolicy {
	return &ivsapi.PlaybackRestrictionPolicy{
		Arn:                           ptr(rec.Key),
		Name:                          ptr(doc.Name),
		AllowedCountries:              cloneList(doc.AllowedCountries),
		AllowedOrigins:                cloneList(doc.AllowedOrigins),
		EnableStrictOriginEnforcement: ptr(doc.EnableStrictOriginEnforcement),
		Tags:                          control.TagsOf(rec),
	}
}

// CreatePlaybackRestrictionPolicy implements ivsapi.Service.
func (s *Service) CreatePlaybackRestrictionPolicy(ctx context.Context, in *ivsapi.CreatePlaybackRestrictionPolicyRequest) (*ivsapi.CreatePlaybackRestrictionPolicyResponse, error) {
	if err := s.checkQuota(ctx, store.KindPlaybackRestrictionPolicy, "", "playback restriction policies", MaxPlaybackRestrictionPolicies); err != nil {
		return nil, err
	}
	doc := &restrictionDoc{
		Name:                          str(in.Name),
		AllowedCountries:              cloneList(in.AllowedCountries),
		AllowedOrigins:                cloneList(in.AllowedOrigins),
		EnableStrictOriginEnforcement: in.EnableStrictOriginEnforcement != nil && *in.EnableStrictOriginEnforcement,
	}
	arn := s.d.Identity.ARN(string(store.KindPlaybackRestrictionPolicy), model.NewResourceID())
	rec, err := newRecord(store.KindPlaybackRestrictionPolicy, arn, "", doc, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, err
	}
	return &ivsapi.CreatePlaybackRestrictionPolicyResponse{PlaybackRestrictionPolicy: restrictionOut(rec, doc)}, nil
}

// GetPlaybackRestrictionPolicy implements ivsapi.Service.
func (s *Service) GetPlaybackRestrictionPolicy(ctx context.Context, in *ivsapi.GetPlaybackRestrictionPolicyRequest) (*ivsapi.GetPlaybackRestrictionPolicyResponse, error) {
	it, err := s.restrictions.Get(ctx, str(in.Arn))
	if err != nil {
		return nil, err
	}
	return &ivsapi.GetPlaybackRestrictionPolicyResponse{PlaybackRestrictionPolicy: restrictionOut(it.Rec, it.Doc)}, nil
}

// UpdatePlaybackRestrictionPolicy implements ivsapi.Service. Absent members
// keep their value.
func (s *Service) UpdatePlaybackRestrictionPolicy(ctx context.Context, in *ivsapi.UpdatePlaybackRestrictionPolicyRequest) (*ivsapi.UpdatePlaybackRestrictionPolicyResponse, error) {
	arn := str(in.Arn)
	for range maxAttempts {
		it, err := s.restrictions.Get(ctx, arn)
		if err != nil {
			return nil, err
		}
		doc := it.Doc
		if in.Name != nil {
			doc.Name = *in.Name
		}
		if in.AllowedCountries != nil {
			doc.AllowedCountries = cloneList(in.AllowedCountries)
		}
		if in.AllowedOrigins != nil {
			doc.AllowedOrigins = cloneList(in.AllowedOrigins)
		}
		if in.EnableStrictOriginEnforcement != nil {
			doc.EnableStrictOriginEnforcement = *in.EnableStrictOriginEnforcement
		}
		if err := control.Encode(it.Rec, doc); err != nil {
			return nil, err
		}
		err = store.Update(ctx, s.d.Store, it.Rec)
		if err == nil {
			return &ivsapi.UpdatePlaybackRestrictionPolicyResponse{PlaybackRestrictionPolicy: restrictionOut(it.Rec, doc)}, nil
		}
		if !retryable(err) {
			return nil, err
		}
	}
	return nil, busy(arn)
}

// DeletePlaybackRestrictionPolicy implements ivsapi.Service:
// ConflictException while a channel references it.
func (s *Service) DeletePlaybackRestrictionPolicy(ctx context.Context, in *ivsapi.DeletePlaybackRestrictionPolicyRequest) error {
	arn := str(in.Arn)
	return s.deleteGuarded(ctx, store.KindPlaybackRestrictionPolicy, arn, s.referencedBy(attrRestriction, arn, "Playback restriction policy"))
}

// ListPlaybackRestrictionPolicies implements ivsapi.Service. The default
// page size is 1, as the model documents.
func (s *Service) ListPlaybackRestrictionPolicies(ctx context.Context, in *ivsapi.ListPlaybackRestrictionPoliciesRequest) (*ivsapi.ListPlaybackRestrictionPoliciesResponse, error) {
	items, next, err := s.restrictions.List(ctx, store.Query{}, in.NextToken, in.MaxResults, defaultRestrictionPage)
	if err != nil {
		return nil, err
	}
	out := &ivsapi.ListPlaybackRestrictionPoliciesResponse{
		PlaybackRestrictionPolicies: make([]ivsapi.PlaybackRestrictionPolicySummary, 0, len(items)),
		NextToken:                   next,
	}
	for _, it := range items {
		p := restrictionOut(it.Rec, it.Doc)
		out.PlaybackRestrictionPolicies = append(out.PlaybackRestrictionPolicies, ivsapi.PlaybackRestrictionPolicySummary{
			Arn:                           p.Arn,
			Name:                          p.Name,
			AllowedCountries:              p.AllowedCountries,
			AllowedOrigins:                p.AllowedOrigins,
			EnableStrictOriginEnforcement: p.EnableStrictOriginEnforcement,
			Tags:                          p.Tags,
		})
	}
	return out, nil
}

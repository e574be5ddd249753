package stages

import (
	"context"
	"fmt"

	"github.com/stagecast/stagecast/internal/auth"
	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

func ingestAttrs(c *rtapi.IngestConfiguration) []store.Attr {
	return []store.Attr{{Name: "stageArn", Value: deref(c.StageArn)}, {Name: "state", Value: deref(c.State)}}
}

// CreateIngestConfiguration implements rtapi.Service. The configuration
// is INACTIVE until an RTMP(S) publisher uses its stream key.
func (s *Service) CreateIngestConfiguration(ctx context.Context, in *rtapi.CreateIngestConfigurationRequest) (*rtapi.CreateIngestConfigurationResponse, error) {
	if *in.IngestProtocol == rtapi.IngestProtocolRtmp && (in.InsecureIngest == nil || !*in.InsecureIngest) {
		return nil, wire.Invalid("insecureIngest", "RTMP ingest requires insecureIngest to be true; use RTMPS otherwise")
	}
	if deref(in.StageArn) != "" {
		if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
			return nil, err
		}
	}
	if err := s.quota(ctx, store.KindIngestConfiguration, "ingest configurations", MaxIngestConfigurations); err != nil {
		return nil, err
	}
	id := model.NewResourceID()
	arn := s.d.Identity.ARN("ingest-configuration", id)
	key := auth.NewIngestStreamKeyValue(s.d.Identity.AccountID, s.d.Identity.Region, id)
	doc := &rtapi.IngestConfiguration{
		Arn: &arn, Name: str(deref(in.Name)), IngestProtocol: in.IngestProtocol,
		StreamKey: str(key.Reveal()), StageArn: str(deref(in.StageArn)),
		ParticipantId: str(model.NewResourceID()), State: str(rtapi.IngestConfigurationStateInactive),
		UserId: str(deref(in.UserId)), Attributes: in.Attributes,
		RedundantIngest: ptr(in.RedundantIngest != nil && *in.RedundantIngest),
	}
	if doc.Attributes == nil {
		doc.Attributes = map[string]string{}
	}
	rec, err := control.NewRecord(store.KindIngestConfiguration, arn, doc)
	if err != nil {
		return nil, err
	}
	rec.Tags = in.Tags
	rec.Lookup = key.Reveal()
	rec.Attrs = ingestAttrs(doc)
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return nil, fmt.Errorf("create ingest configuration: %w", err)
	}
	doc.Tags = control.TagsOf(rec)
	return &rtapi.CreateIngestConfigurationResponse{IngestConfiguration: doc}, nil
}

// GetIngestConfiguration implements rtapi.Service.
func (s *Service) GetIngestConfiguration(ctx context.Context, in *rtapi.GetIngestConfigurationRequest) (*rtapi.GetIngestConfigurationResponse, error) {
	it, err := s.ingests.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.GetIngestConfigurationResponse{IngestConfiguration: it.Doc}, nil
}

// UpdateIngestConfiguration implements rtapi.Service; 409 while ACTIVE.
func (s *Service) UpdateIngestConfiguration(ctx context.Context, in *rtapi.UpdateIngestConfigurationRequest) (*rtapi.UpdateIngestConfigurationResponse, error) {
	it, err := s.ingests.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	if deref(it.Doc.State) == rtapi.IngestConfigurationStateActive {
		return nil, model.Conflict("Ingest configuration %s is ACTIVE; stop the publisher first", *in.Arn)
	}
	if in.StageArn != nil {
		if *in.StageArn != "" {
			if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
				return nil, err
			}
		}
		it.Doc.StageArn = in.StageArn
	}
	if in.RedundantIngest != nil {
		it.Doc.RedundantIngest = in.RedundantIngest
	}
	it.Rec.Attrs = ingestAttrs(it.Doc)
	if err := control.Encode(it.Rec, it.Doc); err != nil {
		return nil, err
	}
	if err := store.Update(ctx, s.d.Store, it.Rec); err != nil {
		return nil, conflictOnStale(err, *in.Arn)
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.UpdateIngestConfigurationResponse{IngestConfiguration: it.Doc}, nil
}

// DeleteIngestConfiguration implements rtapi.Service; 409 while ACTIVE
// unless force is set.
func (s *Service) DeleteIngestConfiguration(ctx context.Context, in *rtapi.DeleteIngestConfigurationRequest) (*rtapi.DeleteIngestConfigurationResponse, error) {
	it, err := s.ingests.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	if deref(it.Doc.State) == rtapi.IngestConfigurationStateActive && (in.Force == nil || !*in.Force) {
		return nil, model.Conflict("Ingest configuration %s is ACTIVE; pass force to delete it anyway", *in.Arn)
	}
	if err := store.Delete(ctx, s.d.Store, *in.Arn); err != nil {
		return nil, notFoundOr(err, *in.Arn)
	}
	return &rtapi.DeleteIngestConfigurationResponse{}, nil
}

// ListIngestConfigurations implements rtapi.Service.
func (s *Service) ListIngestConfigurations(ctx context.Context, in *rtapi.ListIngestConfigurationsRequest) (*rtapi.ListIngestConfigurationsResponse, error) {
	var q store.Query
	if in.FilterByStageArn != nil {
		q.Attrs = append(q.Attrs, store.Attr{Name: "stageArn", Value: *in.FilterByStageArn})
	}
	if in.FilterByState != nil {
		q.Attrs = append(q.Attrs, store.Attr{Name: "state", Value: *in.FilterByState})
	}
	items, next, err := s.ingests.List(ctx, q, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListIngestConfigurationsResponse{IngestConfigurations: []rtapi.IngestConfigurationSummary{}, NextToken: next}
	for _, it := range items {
		c := it.Doc
		out.IngestConfigurations = append(out.IngestConfigurations, rtapi.IngestConfigurationSummary{
			Arn: c.Arn, Name: c.Name, IngestProtocol: c.IngestProtocol, StageArn: c.StageArn,
			ParticipantId: c.ParticipantId, State: c.State, UserId: c.UserId, RedundantIngest: c.RedundantIngest,
		})
	}
	return out, nil
}

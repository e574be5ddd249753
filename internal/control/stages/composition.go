package stages

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// EventCompositionStateChange is the EventBridge detail-type of
// composition lifecycle events.
const EventCompositionStateChange = "IVS Composition State Change"

// noCompositorReason explains a composition that fails because this server
// runs no compositor.
const noCompositorReason = "no compositor is running on this server: composition media is not available"

func running(state string) bool {
	return state == rtapi.CompositionStateStarting || state == rtapi.CompositionStateActive || state == rtapi.CompositionStateStopping
}

func compositionAttrs(c *rtapi.Composition) []store.Attr {
	attrs := []store.Attr{{Name: "stageArn", Value: deref(c.StageArn)}, {Name: "state", Value: deref(c.State)}}
	if running(deref(c.State)) {
		attrs = append(attrs, store.Attr{Name: "running", Value: "true"})
	}
	for _, d := range c.Destinations {
		cfg := d.Configuration
		if cfg == nil {
			continue
		}
		if cfg.Channel != nil {
			attrs = append(attrs, store.Attr{Name: "channelArn", Value: deref(cfg.Channel.ChannelArn)},
				store.Attr{Name: "encoderConfigurationArn", Value: deref(cfg.Channel.EncoderConfigurationArn)})
		}
		if cfg.S3 != nil {
			attrs = append(attrs, store.Attr{Name: "storageConfigurationArn", Value: deref(cfg.S3.StorageConfigurationArn)})
			for _, e := range cfg.S3.EncoderConfigurationArns {
				attrs = append(attrs, store.Attr{Name: "encoderConfigurationArn", Value: e})
			}
		}
	}
	return attrs
}

// refusedIfUsed is a ConflictError when a running composition references
// arn through attribute attr.
func (s *Service) refusedIfUsed(ctx context.Context, attr, arn string) error {
	page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindComposition, Attrs: []store.Attr{{Name: attr, Value: arn}, {Name: "running", Value: "true"}}, Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Records) > 0 {
		return model.Conflict("Resource %s is used by composition %s", arn, page.Records[0].Key)
	}
	return nil
}

func defaultLayout(l *rtapi.LayoutConfiguration) (*rtapi.LayoutConfiguration, error) {
	if l != nil && l.Grid != nil && l.Pip != nil {
		return nil, wire.Invalid("layout", "Specify either grid or pip, not both")
	}
	out := rtapi.LayoutConfiguration{}
	if l != nil {
		out = *l
	}
	if out.Pip != nil {
		p := *out.Pip
		def(&p.FeaturedParticipantAttribute, "")
		def(&p.OmitStoppedVideo, false)
		def(&p.VideoFillMode, rtapi.VideoFillModeCover)
		def(&p.GridGap, 0)
		def(&p.PipParticipantAttribute, "")
		def(&p.PipBehavior, rtapi.PipBehaviorStatic)
		def(&p.PipOffset, 0)
		def(&p.PipPosition, rtapi.PipPositionBottomRight)
		out.Pip = &p
		return &out, nil
	}
	g := rtapi.GridConfiguration{}
	if out.Grid != nil {
		g = *out.Grid
	}
	def(&g.FeaturedParticipantAttribute, "")
	def(&g.OmitStoppedVideo, false)
	def(&g.VideoAspectRatio, rtapi.VideoAspectRatioVideo)
	def(&g.GridGap, 2)
	out.Grid = &g
	return &out, nil
}

func def[T any](p **T, v T) {
	if *p == nil {
		*p = &v
	}
}

// checkDestinations validates destination rules the model cannot express
// and that every referenced resource exists.
func (s *Service) checkDestinations(ctx context.Context, dests []rtapi.DestinationConfiguration) error {
	channels, s3s := 0, 0
	for i, d := range dests {
		field := fmt.Sprintf("destinations[%d]", i)
		if (d.Channel == nil) == (d.S3 == nil) {
			return wire.Invalid(field, "Exactly one of channel and s3 must be set")
		}
		if d.Channel != nil {
			channels++
			if err := s.exists(ctx, store.KindChannel, *d.Channel.ChannelArn); err != nil {
				return err
			}
			if e := deref(d.Channel.EncoderConfigurationArn); e != "" {
				if err := s.exists(ctx, store.KindEncoderConfiguration, e); err != nil {
					return err
				}
			}
		}
		if d.S3 != nil {
			s3s++
			if err := s.exists(ctx, store.KindStorageConfiguration, *d.S3.StorageConfigurationArn); err != nil {
				return err
			}
			for _, e := range d.S3.EncoderConfigurationArns {
				if err := s.exists(ctx, store.KindEncoderConfiguration, e); err != nil {
					return err
				}
			}
		}
	}
	if channels > 1 || s3s > 1 {
		return wire.Invalid("destinations", "At most one channel destination and one s3 destination are allowed")
	}
	return nil
}

// StartComposition implements rtapi.Service. A repeated call with the same
// idempotency token returns the composition the first call created.
func (s *Service) StartComposition(ctx context.Context, in *rtapi.StartCompositionRequest) (*rtapi.StartCompositionResponse, error) {
	if tok := deref(in.IdempotencyToken); tok != "" {
		if rec, err := s.d.Store.GetByLookup(ctx, store.KindComposition, tok); err == nil {
			c, err := control.Decode[rtapi.Composition](rec)
			if err != nil {
				return nil, err
			}
			if deref(c.StageArn) != *in.StageArn {
				return nil, model.Conflict("Idempotency token %s was used for another request", tok)
			}
			c.Tags = control.TagsOf(rec)
			return &rtapi.StartCompositionResponse{Composition: c}, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
		return nil, err
	}
	layout, err := defaultLayout(in.Layout)
	if err != nil {
		return nil, err
	}
	if err := s.checkDestinations(ctx, in.Destinations); err != nil {
		return nil, err
	}
	for _, d := range in.Destinations {
		if d.Channel != nil {
			if err := s.refusedIfUsed(ctx, "channelArn", *d.Channel.ChannelArn); err != nil {
				return nil, err
			}
		}
	}
	page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindComposition, Attrs: []store.Attr{{Name: "running", Value: "true"}}})
	if err != nil {
		return nil, err
	}
	if len(page.Records) >= MaxConcurrentCompositions {
		return nil, &model.QuotaError{Quota: "concurrent compositions", Limit: MaxConcurrentCompositions}
	}

	id := model.NewResourceID()
	arn := s.d.Identity.ARN("composition", id)
	now := s.d.Clock()
	c := &rtapi.Composition{Arn: &arn, StageArn: in.StageArn, State: str(rtapi.CompositionStateStarting), Layout: layout, StartTime: &now}
	for _, d := range in.Destinations {
		cfg := d
		def(&cfg.Name, "")
		dest := rtapi.Destination{Id: str(model.NewResourceID()), State: str(rtapi.DestinationStateStarting), Configuration: &cfg}
		if cfg.S3 != nil {
			prefix := fmt.Sprintf("%s/%s/%s/composite", model.ResourceID(*in.StageArn), id, *dest.Id)
			dest.Detail = &rtapi.DestinationDetail{S3: &rtapi.S3Detail{RecordingPrefix: &prefix}}
		}
		c.Destinations = append(c.Destinations, dest)
	}
	rec, err := control.NewRecord(store.KindComposition, arn, c)
	if err != nil {
		return nil, err
	}
	rec.Tags = in.Tags
	rec.Lookup = deref(in.IdempotencyToken)
	rec.Attrs = compositionAttrs(c)
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, model.Conflict("Idempotency token %s is in use by a request in progress", deref(in.IdempotencyToken))
		}
		return nil, fmt.Errorf("start composition: %w", err)
	}
	s.emit(ctx, c, "Session Start", "", "")

	comp, _ := s.attached()
	if comp == nil {
		if c, err = s.finish(ctx, arn, rtapi.CompositionStateFailed, noCompositorReason); err != nil {
			return nil, err
		}
	} else if err := comp.Start(ctx, c); err != nil {
		if c, err = s.finish(ctx, arn, rtapi.CompositionStateFailed, err.Error()); err != nil {
			return nil, err
		}
	}
	c.Tags = control.TagsOf(rec)
	return &rtapi.StartCompositionResponse{Composition: c}, nil
}

// SetCompositionState moves a composition (and its running destinations) to
// state, emitting the matching events. The compositor calls it.
func (s *Service) SetCompositionState(ctx context.Context, arn, state, reason string) error {
	if state == rtapi.CompositionStateStopped || state == rtapi.CompositionStateFailed {
		_, err := s.finish(ctx, arn, state, reason)
		return err
	}
	var started []string
	c, err := s.update(ctx, arn, func(c *rtapi.Composition) bool {
		if !running(deref(c.State)) {
			return false
		}
		started = started[:0]
		c.State = &state
		for i := range c.Destinations {
			d := &c.Destinations[i]
			// Destinations still STARTING follow the composition; the
			// compositor reports the others with SetDestinationState.
			if deref(d.State) == rtapi.DestinationStateStarting && state == rtapi.CompositionStateActive {
				d.State = &state
				def(&d.StartTime, s.d.Clock())
				started = append(started, deref(d.Id))
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range started {
		s.emit(ctx, c, "Destination Start", id, "")
	}
	return nil
}

// destinationEvents names the event of each destination state.
var destinationEvents = map[string]string{
	rtapi.DestinationStateActive:       "Destination Start",
	rtapi.DestinationStateReconnecting: "Destination Reconnecting",
	rtapi.DestinationStateFailed:       "Destination Failure",
	rtapi.DestinationStateStopped:      "Destination End",
}

// destinationRunning reports whether a destination has not ended.
func destinationRunning(state string) bool {
	return state != rtapi.DestinationStateFailed && state != rtapi.DestinationStateStopped
}

// SetDestinationState records the state of one destination of a running
// composition, as the compositor reports it, and emits its "IVS
// Composition State Change" event (Destination Start, Reconnecting,
// Failure or End). A repeated state, an ended destination or an ended
// composition changes nothing.
func (s *Service) SetDestinationState(ctx context.Context, arn, destID, state, reason string) error {
	name := ""
	c, err := s.update(ctx, arn, func(c *rtapi.Composition) bool {
		name = ""
		if !running(deref(c.State)) {
			return false
		}
		for i := range c.Destinations {
			d := &c.Destinations[i]
			if deref(d.Id) != destID || deref(d.State) == state || !destinationRunning(deref(d.State)) {
				continue
			}
			now := s.d.Clock()
			d.State = &state
			switch state {
			case rtapi.DestinationStateActive:
				def(&d.StartTime, now)
			case rtapi.DestinationStateFailed, rtapi.DestinationStateStopped:
				d.EndTime = &now
			}
			name = destinationEvents[state]
			return true
		}
		return false
	})
	if err != nil || name == "" {
		return err
	}
	s.emit(ctx, c, name, destID, reason)
	return nil
}

// finish ends a composition in STOPPED or FAILED, with destination events
// first and the session event last, as IVS orders them.
func (s *Service) finish(ctx context.Context, arn, state, reason string) (*rtapi.Composition, error) {
	changed := false
	var ended []string
	c, err := s.update(ctx, arn, func(c *rtapi.Composition) bool {
		if !running(deref(c.State)) {
			return false
		}
		ended = ended[:0]
		now := s.d.Clock()
		c.State = &state
		c.EndTime = &now
		for i := range c.Destinations {
			if destinationRunning(deref(c.Destinations[i].State)) {
				c.Destinations[i].State = &state
				c.Destinations[i].EndTime = &now
				ended = append(ended, deref(c.Destinations[i].Id))
			}
		}
		changed = true
		return true
	})
	if err != nil || !changed {
		return c, err
	}
	for _, id := range ended {
		if state == rtapi.CompositionStateFailed {
			s.emit(ctx, c, "Destination Failure", id, reason)
		} else {
			s.emit(ctx, c, "Destination End", id, "")
		}
	}
	if state == rtapi.CompositionStateFailed {
		s.d.Logger().Warn("composition failed", "composition_arn", arn, "reason", reason)
		s.emit(ctx, c, "Session Failure", "", reason)
	} else {
		s.emit(ctx, c, "Session End", "", "")
	}
	return c, nil
}

// update applies f to a composition under optimistic concurrency; f
// returns false to leave it unchanged.
func (s *Service) update(ctx context.Context, arn string, f func(*rtapi.Composition) bool) (*rtapi.Composition, error) {
	it, err := s.compositions.Mutate(ctx, arn, func(c *rtapi.Composition, rec *store.Record) (bool, error) {
		if !f(c) {
			return false, nil
		}
		rec.Attrs = compositionAttrs(c)
		return true, nil
	})
	return it.Doc, err
}

func (s *Service) emit(ctx context.Context, c *rtapi.Composition, name, destID, reason string) {
	detail := map[string]any{"event_name": name, "stage_arn": deref(c.StageArn)}
	if destID != "" {
		detail["id"] = destID
	}
	if reason != "" {
		detail["reason"] = reason
	}
	s.d.Publish(ctx, EventCompositionStateChange, []string{deref(c.Arn)}, detail)
}

// StopComposition implements rtapi.Service. Stopping a composition that has
// already ended succeeds and changes nothing.
func (s *Service) StopComposition(ctx context.Context, in *rtapi.StopCompositionRequest) (*rtapi.StopCompositionResponse, error) {
	it, err := s.compositions.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	if !running(deref(it.Doc.State)) {
		return &rtapi.StopCompositionResponse{}, nil
	}
	if comp, _ := s.attached(); comp != nil {
		if _, err := s.update(ctx, *in.Arn, func(c *rtapi.Composition) bool {
			c.State = str(rtapi.CompositionStateStopping)
			return true
		}); err != nil {
			return nil, err
		}
		if err := comp.Stop(ctx, *in.Arn); err != nil {
			return nil, err
		}
	}
	if _, err := s.finish(ctx, *in.Arn, rtapi.CompositionStateStopped, ""); err != nil {
		return nil, err
	}
	return &rtapi.StopCompositionResponse{}, nil
}

func (s *Service) stopStageCompositions(ctx context.Context, stageARN, reason string) error {
	page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindComposition, Attrs: []store.Attr{{Name: "stageArn", Value: stageARN}, {Name: "running", Value: "true"}}})
	if err != nil {
		return err
	}
	for _, rec := range page.Records {
		if _, err := s.StopComposition(ctx, &rtapi.StopCompositionRequest{Arn: &rec.Key}); err != nil {
			return fmt.Errorf("stop composition %s (%s): %w", rec.Key, reason, err)
		}
	}
	return nil
}

// GetComposition implements rtapi.Service.
func (s *Service) GetComposition(ctx context.Context, in *rtapi.GetCompositionRequest) (*rtapi.GetCompositionResponse, error) {
	it, err := s.compositions.Get(ctx, *in.Arn)
	if err != nil {
		return nil, err
	}
	it.Doc.Tags = control.TagsOf(it.Rec)
	return &rtapi.GetCompositionResponse{Composition: it.Doc}, nil
}

// ListCompositions implements rtapi.Service.
func (s *Service) ListCompositions(ctx context.Context, in *rtapi.ListCompositionsRequest) (*rtapi.ListCompositionsResponse, error) {
	var q store.Query
	if in.FilterByStageArn != nil {
		q.Attrs = append(q.Attrs, store.Attr{Name: "stageArn", Value: *in.FilterByStageArn})
	}
	if in.FilterByEncoderConfigurationArn != nil {
		q.Attrs = append(q.Attrs, store.Attr{Name: "encoderConfigurationArn", Value: *in.FilterByEncoderConfigurationArn})
	}
	items, next, err := s.compositions.List(ctx, q, in.NextToken, in.MaxResults, 100)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListCompositionsResponse{Compositions: []rtapi.CompositionSummary{}, NextToken: next}
	for _, it := range items {
		c := it.Doc
		sum := rtapi.CompositionSummary{Arn: c.Arn, StageArn: c.StageArn, State: c.State, StartTime: c.StartTime, EndTime: c.EndTime, Tags: control.TagsOf(it.Rec), Destinations: []rtapi.DestinationSummary{}}
		for _, d := range c.Destinations {
			sum.Destinations = append(sum.Destinations, rtapi.DestinationSummary{Id: d.Id, State: d.State, StartTime: d.StartTime, EndTime: d.EndTime})
		}
		out.Compositions = append(out.Compositions, sum)
	}
	return out, nil
}

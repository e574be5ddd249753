package stages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/stagecast/stagecast/internal/control"
	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/model/wire"
	"github.com/stagecast/stagecast/internal/store"
)

// Record keys of the media-plane records, nested under their stage so that
// deleting a stage deletes them.
func sessionKey(stageARN, sessionID string) string { return stageARN + "/session/" + sessionID }
func participantKey(stageARN, sessionID, pid string) string {
	return sessionKey(stageARN, sessionID) + "/participant/" + pid
}

func newMapRecord(kind store.Kind, key string, doc map[string]string) (*store.Record, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &store.Record{Key: key, Kind: kind, Data: data}, nil
}

func notFoundOr(err error, key string) error {
	if errors.Is(err, store.ErrNotFound) {
		return model.NotFound(key)
	}
	return err
}

func conflictOnStale(err error, key string) error {
	if errors.Is(err, store.ErrStale) {
		return model.Conflict("Resource %s was modified concurrently; retry the request", key)
	}
	return notFoundOr(err, key)
}

// activeSession returns the id of the stage's open session, or "".
func (s *Service) activeSession(ctx context.Context, stageARN string) (string, error) {
	page, err := s.d.Store.List(ctx, store.Query{Kind: store.KindStageSession, Parent: stageARN,
		Attrs: []store.Attr{{Name: "active", Value: "true"}}, Limit: 1, Descending: true})
	if err != nil || len(page.Records) == 0 {
		return "", err
	}
	doc, err := control.Decode[rtapi.StageSession](page.Records[0])
	if err != nil {
		return "", err
	}
	return deref(doc.SessionId), nil
}

// StartSession returns the stage's open session, opening one if none is.
// The media plane calls it when the first participant joins.
func (s *Service) StartSession(ctx context.Context, stageARN string) (string, error) {
	if _, err := s.stages.Get(ctx, stageARN); err != nil {
		return "", err
	}
	if id, err := s.activeSession(ctx, stageARN); err != nil || id != "" {
		return id, err
	}
	id := model.NewStageSessionID()
	now := s.d.Clock()
	rec, err := control.NewRecord(store.KindStageSession, sessionKey(stageARN, id), &rtapi.StageSession{SessionId: &id, StartTime: &now})
	if err != nil {
		return "", err
	}
	rec.Parent = stageARN
	rec.Attrs = []store.Attr{{Name: "active", Value: "true"}}
	if err := store.Create(ctx, s.d.Store, rec); err != nil {
		return "", fmt.Errorf("start stage session: %w", err)
	}
	return id, nil
}

// EndSession closes a stage session.
func (s *Service) EndSession(ctx context.Context, stageARN, sessionID string) error {
	it, err := s.sessions.Get(ctx, sessionKey(stageARN, sessionID))
	if err != nil {
		return err
	}
	now := s.d.Clock()
	it.Doc.EndTime = &now
	it.Rec.Attrs = nil
	if err := control.Encode(it.Rec, it.Doc); err != nil {
		return err
	}
	return store.Update(ctx, s.d.Store, it.Rec)
}

// RecordParticipant creates or replaces a participant of a session.
func (s *Service) RecordParticipant(ctx context.Context, stageARN, sessionID string, p *rtapi.Participant) error {
	pid := deref(p.ParticipantId)
	rec, err := control.NewRecord(store.KindParticipant, participantKey(stageARN, sessionID, pid), p)
	if err != nil {
		return err
	}
	rec.Parent = sessionKey(stageARN, sessionID)
	rec.Attrs = []store.Attr{
		{Name: "stageArn", Value: stageARN}, {Name: "sessionId", Value: sessionID},
		{Name: "userId", Value: deref(p.UserId)}, {Name: "state", Value: deref(p.State)},
		{Name: "published", Value: strconv.FormatBool(p.Published != nil && *p.Published)},
		{Name: "recordingState", Value: deref(p.RecordingState)},
	}
	return s.d.Store.Apply(ctx, store.Op{Type: store.OpPut, Record: rec})
}

// RecordParticipantEvent appends an event to a participant's history.
func (s *Service) RecordParticipantEvent(ctx context.Context, stageARN, sessionID string, ev *rtapi.Event) error {
	pid := deref(ev.ParticipantId)
	pkey := participantKey(stageARN, sessionID, pid)
	rec, err := control.NewRecord(store.KindParticipantEvent, pkey+"/event/"+model.RandomID(16), ev)
	if err != nil {
		return err
	}
	rec.Parent = pkey
	return store.Create(ctx, s.d.Store, rec)
}

// GetParticipant implements rtapi.Service.
func (s *Service) GetParticipant(ctx context.Context, in *rtapi.GetParticipantRequest) (*rtapi.GetParticipantResponse, error) {
	it, err := s.participants.Get(ctx, participantKey(*in.StageArn, *in.SessionId, *in.ParticipantId))
	if err != nil {
		return nil, model.NotFound(fmt.Sprintf("participant %s in session %s of %s", *in.ParticipantId, *in.SessionId, *in.StageArn))
	}
	return &rtapi.GetParticipantResponse{Participant: it.Doc}, nil
}

// ListParticipants implements rtapi.Service.
func (s *Service) ListParticipants(ctx context.Context, in *rtapi.ListParticipantsRequest) (*rtapi.ListParticipantsResponse, error) {
	if _, err := s.sessions.Get(ctx, sessionKey(*in.StageArn, *in.SessionId)); err != nil {
		return nil, model.NotFound(fmt.Sprintf("session %s of %s", *in.SessionId, *in.StageArn))
	}
	var filters []store.Attr
	if in.FilterByUserId != nil {
		filters = append(filters, store.Attr{Name: "userId", Value: *in.FilterByUserId})
	}
	if in.FilterByPublished != nil {
		filters = append(filters, store.Attr{Name: "published", Value: strconv.FormatBool(*in.FilterByPublished)})
	}
	if in.FilterByState != nil {
		filters = append(filters, store.Attr{Name: "state", Value: *in.FilterByState})
	}
	if in.FilterByRecordingState != nil {
		filters = append(filters, store.Attr{Name: "recordingState", Value: *in.FilterByRecordingState})
	}
	if len(filters) > 1 {
		return nil, wire.Invalid("filterBy", "Only one of filterByUserId, filterByPublished, filterByState and filterByRecordingState may be used")
	}
	items, next, err := s.participants.List(ctx, store.Query{Parent: sessionKey(*in.StageArn, *in.SessionId), Attrs: filters}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListParticipantsResponse{Participants: []rtapi.ParticipantSummary{}, NextToken: next}
	for _, it := range items {
		p := it.Doc
		out.Participants = append(out.Participants, rtapi.ParticipantSummary{
			ParticipantId: p.ParticipantId, UserId: p.UserId, State: p.State, FirstJoinTime: p.FirstJoinTime,
			Published: p.Published, RecordingState: p.RecordingState, ReplicationType: p.ReplicationType,
			ReplicationState: p.ReplicationState, SourceStageArn: p.SourceStageArn, SourceSessionId: p.SourceSessionId,
			RedundantIngest: p.RedundantIngest, IngestConfigurationArn: p.IngestConfigurationArn,
		})
	}
	return out, nil
}

// ListParticipantEvents implements rtapi.Service.
func (s *Service) ListParticipantEvents(ctx context.Context, in *rtapi.ListParticipantEventsRequest) (*rtapi.ListParticipantEventsResponse, error) {
	pkey := participantKey(*in.StageArn, *in.SessionId, *in.ParticipantId)
	if _, err := s.participants.Get(ctx, pkey); err != nil {
		return nil, model.NotFound(fmt.Sprintf("participant %s in session %s of %s", *in.ParticipantId, *in.SessionId, *in.StageArn))
	}
	items, next, err := s.events.List(ctx, store.Query{Parent: pkey}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListParticipantEventsResponse{Events: []rtapi.Event{}, NextToken: next}
	for _, it := range items {
		out.Events = append(out.Events, *it.Doc)
	}
	return out, nil
}

// GetStageSession implements rtapi.Service.
func (s *Service) GetStageSession(ctx context.Context, in *rtapi.GetStageSessionRequest) (*rtapi.GetStageSessionResponse, error) {
	if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
		return nil, err
	}
	it, err := s.sessions.Get(ctx, sessionKey(*in.StageArn, *in.SessionId))
	if err != nil {
		return nil, model.NotFound(fmt.Sprintf("session %s of %s", *in.SessionId, *in.StageArn))
	}
	return &rtapi.GetStageSessionResponse{StageSession: it.Doc}, nil
}

// ListStageSessions implements rtapi.Service.
func (s *Service) ListStageSessions(ctx context.Context, in *rtapi.ListStageSessionsRequest) (*rtapi.ListStageSessionsResponse, error) {
	if _, err := s.stages.Get(ctx, *in.StageArn); err != nil {
		return nil, err
	}
	items, next, err := s.sessions.List(ctx, store.Query{Parent: *in.StageArn}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListStageSessionsResponse{StageSessions: []rtapi.StageSessionSummary{}, NextToken: next}
	for _, it := range items {
		out.StageSessions = append(out.StageSessions, rtapi.StageSessionSummary{SessionId: it.Doc.SessionId, StartTime: it.Doc.StartTime, EndTime: it.Doc.EndTime})
	}
	return out, nil
}

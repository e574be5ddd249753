package stages

import (
	"context"
	"fmt"

	"github.com/stagecast/stagecast/internal/model"
	"github.com/stagecast/stagecast/internal/model/rtapi"
	"github.com/stagecast/stagecast/internal/store"
)

// connectedParticipant finds a CONNECTED participant in the stage's active
// session, or returns a NotFoundError.
func (s *Service) connectedParticipant(ctx context.Context, stageARN, pid string) (*rtapi.Participant, error) {
	if _, err := s.stages.Get(ctx, stageARN); err != nil {
		return nil, err
	}
	notConnected := model.NotFound(fmt.Sprintf("participant %s connected to %s", pid, stageARN))
	sid, err := s.activeSession(ctx, stageARN)
	if err != nil {
		return nil, err
	}
	if sid == "" {
		return nil, notConnected
	}
	it, err := s.participants.Get(ctx, participantKey(stageARN, sid, pid))
	if err != nil || deref(it.Doc.State) != rtapi.ParticipantStateConnected {
		return nil, notConnected
	}
	return it.Doc, nil
}

// StartParticipantReplication implements rtapi.Service. Replication needs
// the media plane: a participant that is not connected is
// ResourceNotFoundException, and a connected one is refused with
// ConflictException because this server does not replicate media yet.
func (s *Service) StartParticipantReplication(ctx context.Context, in *rtapi.StartParticipantReplicationRequest) (*rtapi.StartParticipantReplicationResponse, error) {
	if *in.SourceStageArn == *in.DestinationStageArn {
		return nil, model.Conflict("Source and destination stage must differ")
	}
	if _, err := s.stages.Get(ctx, *in.DestinationStageArn); err != nil {
		return nil, err
	}
	if _, err := s.connectedParticipant(ctx, *in.SourceStageArn, *in.ParticipantId); err != nil {
		return nil, err
	}
	return nil, model.Conflict("Participant replication is not supported by this server")
}

// StopParticipantReplication implements rtapi.Service.
func (s *Service) StopParticipantReplication(ctx context.Context, in *rtapi.StopParticipantReplicationRequest) (*rtapi.StopParticipantReplicationResponse, error) {
	if _, err := s.stages.Get(ctx, *in.SourceStageArn); err != nil {
		return nil, err
	}
	if _, err := s.stages.Get(ctx, *in.DestinationStageArn); err != nil {
		return nil, err
	}
	return nil, model.NotFound(fmt.Sprintf("replication of participant %s from %s to %s", *in.ParticipantId, *in.SourceStageArn, *in.DestinationStageArn))
}

// ListParticipantReplicas implements rtapi.Service.
func (s *Service) ListParticipantReplicas(ctx context.Context, in *rtapi.ListParticipantReplicasRequest) (*rtapi.ListParticipantReplicasResponse, error) {
	if _, err := s.stages.Get(ctx, *in.SourceStageArn); err != nil {
		return nil, err
	}
	items, next, err := s.replicas.List(ctx, store.Query{Parent: *in.SourceStageArn, Attrs: []store.Attr{{Name: "participantId", Value: *in.ParticipantId}}}, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := &rtapi.ListParticipantReplicasResponse{Replicas: []rtapi.ParticipantReplica{}, NextToken: next}
	for _, it := range items {
		out.Replicas = append(out.Replicas, *it.Doc)
	}
	return out, nil
}

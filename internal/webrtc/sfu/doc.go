// Package sfu is the stages media server: a selective forwarding unit on
// pion/webrtc. pion is imported only under internal/webrtc; nothing of it
// leaks through this package's API.
//
// # Model
//
// A Server holds one Room per stage with a live session. A Participant is
// joined while it has an events socket (Attach) or a WHIP session
// (PublishWHIP, SubscribeWHIP); it leaves when it has neither, which
// happens on WHIP DELETE, socket close, ICE consent failure (no inbound
// traffic for ICEDisconnectedTimeout+ICEFailedTimeout, 5 s by default), a
// WebSocket that stops answering pings, or Disconnect (DisconnectParticipant).
// The first join of a stage starts a stage session (Control.StartSession);
// SessionEndDelay after the last participant left it ends.
//
// Every join, leave, publish and unpublish is recorded through Control
// (RecordParticipant with state, published, browser/OS, protocol "WHIP";
// RecordParticipantEvent JOINED, LEFT, PUBLISH_STARTED, PUBLISH_STOPPED,
// SUBSCRIBE_STARTED, SUBSCRIBE_STOPPED) and "IVS Stage Update" events
// ("Participant Published", "Participant Unpublished") go to Events, all
// through one ordered queue run by Server.Run, so media paths never wait
// for the store.
//
// # Media
//
// All peer connections share one UDP port (ICE UDP mux), host candidates
// only (NAT1To1IPs replace the address). Publishers may send Opus, VP8 and
// H.264 (constrained baseline, main; packetization mode 1), with simulcast
// (rid). RTP is forwarded without decoding: each publisher layer has one
// read loop that rewrites every packet's header for each subscriber and
// hands the copies, one batch per writer, to a pool of writer goroutines
// (one per core, shared by all publishers; fanout.go). Each subscriber
// track is pinned to one writer, which keeps its packets in order; a
// writer's queue is bounded (a full queue drops and counts, the publisher
// never waits) and packets older than 250 ms are dropped rather than sent
// late. Towards a
// subscriber, SSRC, payload type and the audio-level extension id are
// rewritten; with simulcast, a send-side bandwidth estimator (GCC over
// TWCC feedback) picks the layer, switched at key frames with sequence
// numbers and timestamps kept continuous. NACKs from subscribers are
// answered from a per-subscriber retransmission buffer (512 packets; RTX
// when the subscriber negotiated it); losses from
// publishers are NACKed (RTX understood); PLI/FIR from subscribers are
// relayed to the publisher, rate-limited to one per 300 ms per layer.
// Sender/receiver reports and TWCC run on both sides.
//
// # In-process readers (the compositor)
//
//	tracks, hub, err := srv.Subscribe(stageARN, participantID)
//	r := hub.NewReader("compositor", 0) // units in RTP clock rate
//	events, cancel := srv.Watch(stageARN) // RoomJoined/Left/Published/Unpublished/Updated
//	lists := srv.WatchPublishers(ctx, stageARN) // []ParticipantInfo on every change
//	srv.RequestKeyFrame(stageARN, participantID)
//
// Subscribe returns a participant's published tracks (video first) and a
// *stream.Hub of depacketized media.Units: H.264 as NAL units without start
// codes (SPS/PPS in band, Key on IDR/SPS), VP8 frames (Key from the frame
// header), Opus packets; PTS = DTS = the unwrapped RTP timestamp in the
// track's clock rate. The hub is created on first use, fed from the best
// simulcast layer, and closed when the participant stops publishing (its
// readers' channels close). Subscribe returns ErrNotPublishing (wrapped)
// when the participant publishes nothing.
//
// Watch works before a stage has a session, reports the participants
// already there first, and closes its channel on cancel or server close.
// WatchPublishers condenses it into the current list of announced
// publishers (with attributes, tracks, mute state and Joined in Unix
// nanoseconds), which is what compose.Stages.Watch needs: an adapter maps
// ParticipantInfo to compose.Publisher (VideoStopped = VideoMuted or no
// video track) and Subscribe to a Source (the tracks plus
// hub.NewReader(...), whose C and Close complete it).
package sfu

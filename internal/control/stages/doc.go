// Package stages implements the IVS real-time control API ("ivs-realtime",
// rtapi.Service): stages with their endpoints and signing keys, participant
// tokens, participants, participant events and stage sessions, encoder and
// storage configurations, public keys, ingest configurations, compositions
// and participant replication.
//
// Participant tokens are ES384 JWTs signed with a P-384 key that each stage
// gets when it is created (kid "<stage arn>#signing"). Its public half is
// served by StagePublicKey so that media servers and users can verify
// tokens; tokens users sign offline with a key imported through
// ImportPublicKey are accepted too (VerifyToken).
//
// The media side belongs to the SFU and compositor. Until one is attached
// (SetCompositor, SetMedia):
//   - StartComposition validates and persists the composition, then marks it
//     FAILED with a "Session Failure" event whose reason says no compositor
//     is running; StopComposition on it succeeds and keeps it FAILED.
//   - StartParticipantReplication answers ResourceNotFoundException for a
//     participant that is not connected (none can be, without an SFU), and
//     ConflictException if one is but replication is unsupported.
//   - Participants, participant events and stage sessions are written by the
//     media plane through RecordParticipant, RecordParticipantEvent,
//     StartSession and EndSession; the API reads them.
//
// Concurrency: a Service is safe for concurrent use. It caches each stage's
// token signer (mutex-guarded map, entries re-checked against the store
// every signerTTL); nothing else is cached. No goroutines are started.
package stages

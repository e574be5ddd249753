// Package channels implements the Amazon IVS low-latency API ("ivs",
// [ivsapi.Service]) over the store: channels and their stream keys, streams
// and stream sessions, playback key pairs, recording configurations,
// playback restriction policies, ad configurations, viewer-session
// revocations and tags. control/api serves it over HTTP.
//
// # Resources and storage
//
// Every resource is one store record keyed by its ARN. A channel's stream
// key, stream sessions and viewer revocations are its children (Parent =
// the channel ARN) and are deleted with it. CreateChannel writes the
// channel and its stream key in one atomic Apply. A stream key's value is
// its record's Lookup, so ingest finds the channel by key
// ([Service.ChannelForStreamKey], constant-time comparison after the
// lookup); a playback key's fingerprint is its Lookup, so the same key
// cannot be imported twice. Channels carry indexed attributes (name and the
// three referenced ARNs) used by the ListChannels filters and by the
// "still referenced" checks of the deletes.
//
// Writes that depend on another record (a channel referencing a recording
// configuration, a stream key under a channel) include a guard of that
// record in the same Apply (an unchanged re-save checked against its
// version), and deletes of referenced records guard themselves, so a
// reference and a delete cannot cross. Read-modify-write updates are
// optimistic and retry on store.ErrStale a few times before answering
// ConflictException.
//
// # Behaviour choices
//
//   - Defaults are the model's: latencyMode LOW, type STANDARD,
//     containerFormat TS, preset "" (HIGHER_BANDWIDTH_DELIVERY for
//     ADVANCED_SD/HD; setting a preset on other types is a
//     ValidationException), multitrack input shown as {enabled: false,
//     policy: ALLOW, maximumResolution: FULL_HD} when not configured.
//     Enabling multitrack needs type STANDARD, policy, maximumResolution
//     and containerFormat FRAGMENTED_MP4.
//   - Channel output always carries every string member (empty strings,
//     not omitted), tags ({} when none) and srt; srt.passphrase (64 random
//     characters, stored) is omitted when insecureIngest is true.
//   - ListChannels filters are mutually exclusive (ConflictException when
//     two are set; an empty value counts as unset); filterByName is an
//     exact match.
//   - Default page sizes are the model's, including its documented default
//     of 1 for ListPlaybackRestrictionPolicies and ListStreamKeys.
//   - Quotas (ServiceQuotaExceededException) are named constants: the IVS
//     defaults where documented (5000 channels, 1 stream key per channel,
//     3 playback key pairs, 20 recording configurations), Stagecast's
//     choice otherwise (20 playback restriction policies, 20 ad
//     configurations).
//   - Recording configurations are ACTIVE once created; writing recordings
//     is the recorder's job, not this package's.
//   - Live state (GetStream, ListStreams, StopStream, PutMetadata, the 409
//     on updating or deleting a live channel) comes from a [LiveState] set
//     with [Service.SetLive]; without one nothing is live. PutMetadata
//     enforces the documented 1 KiB payload and 5 TPS per channel / 155 TPS
//     per account limits in memory (ThrottlingException).
//   - Ad configurations are stored and returned, but there is no ad
//     insertion (no MediaTailor): InsertAdBreak answers
//     ResourceNotFoundException or ChannelNotBroadcasting as IVS would,
//     and ConflictException "ad insertion is not supported by this server"
//     on a live channel. It never pretends to succeed.
//   - Viewer-session revocations are persisted per channel and viewer,
//     keeping the highest revoked version; the playback side reads them
//     with [Service.RevokedViewerVersion]. Stream sessions are written by
//     the ingest side with [Service.RecordStreamSession].
//
// No events are published yet (channel lifecycle events come with ingest).
// The package starts no goroutines; every call blocks on the store.
package channels

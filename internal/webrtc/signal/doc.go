// Package signal is the HTTP side of stages on the media listener: WHIP
// (RFC 9725 style) publish and subscribe sessions and the stage events
// WebSocket, both authenticated with participant tokens, in front of the
// SFU (package sfu). The wire contract is docs/stages.md.
//
// Routes (mounted by Handler.Register on the media mux):
//
//	POST    /whip                                  publish (sendonly offer)
//	POST    /whip/subscribe/{participantId}        subscribe (recvonly offer)
//	PATCH   /whip/{stageId}/{participantId}/{session}   trickle ICE (sdpfrag)
//	DELETE  /whip/{stageId}/{participantId}/{session}   leave
//	GET     /events/{stageId}                      events WebSocket (token as subprotocol)
//
// Token checks: signature (stage key or imported public key), expiry,
// revocation (DisconnectParticipant), stage match (the token's stage must be
// the one in the path) give 401; a missing PUBLISH or SUBSCRIBE capability
// gives 403. Errors are JSON {"error": CODE, "message": text}.
package signal

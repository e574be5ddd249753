// Package auth holds Stagecast's credential and token logic: stream keys
// (sk_... values for low-latency channels and rt_... values for real-time
// ingest configurations), participant tokens for stages (ES384 JWTs minted by
// the API or signed offline by users with an imported public key), playback
// tokens for private channels, ECDSA P-384 key pairs (generation, PEM
// encoding, IVS-style fingerprints) and the Secret type that keeps credential
// values out of logs and formatted output.
//
// Everything in this package is pure computation on its inputs: it starts no
// goroutines, performs no I/O other than reading crypto/rand, and nothing in
// it blocks. Key lookup during verification is delegated to a caller-supplied
// KeyResolver, so the caller decides whether that touches a store or a cache.
//
// Minting participant tokens is on the API's hot path (thousands of tokens
// per second), so MintParticipant encodes the JWT by hand instead of going
// through a general-purpose JWT library; its cost is dominated by the ECDSA
// P-384 signature itself. Verification favours strictness and clear errors
// over speed and reports failures through the ErrToken* sentinels.
package auth

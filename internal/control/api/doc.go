// Package api serves the IVS-compatible control API over HTTP: both the
// "ivs" and "ivs-realtime" restJson1 protocols on one listener, exactly as
// the official SDKs speak them.
//
// Every request gets an x-amzn-RequestId, passes CORS handling (preflights
// are answered without authentication so browsers can use the JS SDK), is
// authenticated (SigV4, through the Authenticator), routed by path to the
// generated operation table of its service (POST /<Operation>, and
// GET|POST|DELETE /tags/{resourceArn} routed by the ARN's resource type),
// decoded, validated against the model and dispatched to the service.
//
// errors.go is the one table that maps internal errors to IVS exceptions
// and HTTP status codes; nothing else in Stagecast knows them.
//
// The handler starts no goroutines; each request runs on net/http's.
package api

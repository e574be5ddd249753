// Package admin is the rules admin API: a small JSON-over-HTTP handler
// that the app mounts on the control listener under /_stagecast/, behind
// the same SigV4 authentication as the IVS API, and the client the
// "stagecast rules" command uses (SigV4-signed with the CLI profile).
//
// Routes (JSON bodies; errors are {"message": "..."}):
//
//	GET    /_stagecast/rules                    {"rules": [RuleInfo...]}
//	POST   /_stagecast/rules                    body: events.Rule -> 201 RuleInfo
//	GET    /_stagecast/rules/{name}             RuleInfo
//	DELETE /_stagecast/rules/{name}             204
//	GET    /_stagecast/rules/{name}/dead-letters {"dead_letters": [...]}
//	GET    /_stagecast/dead-letters             every rule's dead letters
//
// Secrets are never returned: webhook secrets read "[REDACTED]", except in
// the response to the POST that created the rule.
//
// The handler holds no goroutines; every call blocks on the store.
package admin

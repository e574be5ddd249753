// Package awscmd implements `stagecast ivs <command>` and
// `stagecast ivs-realtime <command>`: drop-in equivalents of `aws ivs` and
// `aws ivs-realtime` (same command names, parameter names, shorthand syntax,
// JSON output, error lines and exit codes) that talk to a Stagecast server
// through the official aws-sdk-go-v2 clients with an endpoint override.
//
// # Model-driven
//
// Nothing is written per operation. Every operation of the embedded botocore
// model (package awsmodel) is a command named in kebab case, and every input
// member is a flag --<kebab(member)> typed by its shape:
//
//   - string, enum: one word (enums are validated by the server);
//   - integer, long, float: one number;
//   - boolean: --flag sets true, --no-flag sets false (--flag=false works);
//   - list of scalars: one or more words up to the next "--" option, or one
//     JSON array;
//   - map, structure: shorthand k=v,k2=v2 (nested {..} and [..] allowed,
//     leaves typed by the member shapes) or a JSON object;
//   - list of structures: a JSON array, or one shorthand item per word.
//
// Any value may be file://path. --cli-input-json (JSON, file://path or "-"
// for stdin) supplies the whole input with wire names and flags override
// its top-level members; --generate-cli-skeleton [input|output] prints a
// template. The input is built as wire JSON, decoded into the SDK input
// struct with encoding/json (wire names match the PascalCase fields
// case-insensitively; the models have no timestamps, unions or documents in
// inputs), and the SDK method of the same name is called by reflection. The
// output struct is walked in parallel with the model's output shape to print
// wire names, RFC 3339 timestamps in the AWS CLI's "+00:00" form, and keys
// sorted, indented by four spaces. Empty responses print nothing.
//
// Paginated operations (the model's paginators) follow nextToken and merge
// the result list unless --no-paginate is given or the input token or limit
// key is set explicitly; --max-items, --starting-token and --page-size work
// as in the AWS CLI, and NextToken is printed only when --max-items cut the
// listing short (tokens are the AWS CLI's base64 JSON form).
//
// # Configuration resolution
//
//   - endpoint: --endpoint-url > AWS_ENDPOINT_URL_IVS (ivs) or
//     AWS_ENDPOINT_URL_IVS_REALTIME (ivs-realtime) > AWS_ENDPOINT_URL >
//     endpoint_url of the AWS profile, when one is named > the Stagecast
//     profile file. Nothing found is an error that points at
//     `stagecast serve` and --endpoint-url.
//   - region: --region > AWS_REGION > AWS_DEFAULT_REGION > the named AWS
//     profile > the Stagecast profile file > us-east-1.
//   - credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
//     AWS_SESSION_TOKEN) > the shared AWS config and credentials files when
//     --profile or AWS_PROFILE names a profile (AWS_CONFIG_FILE and
//     AWS_SHARED_CREDENTIALS_FILE are honoured) > the Stagecast profile file.
//
// The Stagecast profile file is <data dir>/profile.json, written by
// `stagecast serve` with WriteProfile (mode 0600, directory 0700, atomic
// rename); data dir = --data-dir > STAGECAST_DATA_DIR > Env.DataDir >
// ./data. It is read only when a value is still missing. AWS_MAX_ATTEMPTS
// sets the SDK retry attempts; the default SDK retryer is used otherwise.
//
// # Errors and exit codes
//
// Service errors print one line, as the AWS CLI does:
//
//	An error occurred (ResourceNotFoundException) when calling the GetChannel operation: <message>
//
// and exit 254. Usage errors (unknown command or option, with the closest
// match suggested; missing required parameters; bad JSON or shorthand) exit
// 252; configuration errors (no endpoint, no credentials, unreadable
// profile) exit 253; connection failures print
// `Could not connect to the endpoint URL: "<url>"` and exit 255. Secrets
// (secret keys, stream keys, tokens) are never printed by --debug or errors.
//
// Run is synchronous: it blocks for the duration of the HTTP calls, starts
// no goroutines of its own, and releases idle connections before returning.
package awscmd

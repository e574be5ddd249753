package cli

import (
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/cli/awscmd"
)

// benchTarget is the server a benchmark loads: a throw-away in-process node
// (nodeTarget) or a running `stagecast serve` found through the CLI profile
// in its data directory (profileTarget).
type benchTarget struct {
	endpoint, region string
	creds            aws.Credentials
}

func nodeTarget(a *app.App) benchTarget {
	return benchTarget{endpoint: a.APIEndpoint(), region: a.Config().Region,
		creds: aws.Credentials{AccessKeyID: a.Credentials.ID, SecretAccessKey: a.Credentials.Secret}}
}

func profileTarget(dataDir string) (benchTarget, error) {
	p, err := awscmd.ReadProfile(awscmd.ProfilePath(dataDir))
	if err != nil {
		return benchTarget{}, fmt.Errorf("read the server's profile: %w", err)
	}
	return benchTarget{endpoint: p.EndpointURL, region: p.Region,
		creds: aws.Credentials{AccessKeyID: p.AccessKeyID, SecretAccessKey: p.SecretAccessKey}}, nil
}

// awsConfig returns the SDK configuration for the target; hc may be nil
// (the SDK's default HTTP client).
func (t benchTarget) awsConfig(hc *http.Client) aws.Config {
	cfg := aws.Config{Region: t.region,
		Credentials: credentials.NewStaticCredentialsProvider(t.creds.AccessKeyID, t.creds.SecretAccessKey, "")}
	if hc != nil {
		cfg.HTTPClient = hc
	}
	return cfg
}

func (t benchTarget) ivs() *ivs.Client {
	return ivs.NewFromConfig(t.awsConfig(nil), func(o *ivs.Options) { o.BaseEndpoint = aws.String(t.endpoint) })
}

func (t benchTarget) realtime(hc *http.Client) *ivsrealtime.Client {
	return ivsrealtime.NewFromConfig(t.awsConfig(hc), func(o *ivsrealtime.Options) { o.BaseEndpoint = aws.String(t.endpoint) })
}

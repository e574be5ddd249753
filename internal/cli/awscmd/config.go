package awscmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// defaultRegion is used when nothing names a region: a self-hosted server
// only needs some region for signing, so refusing to run helps nobody.
const defaultRegion = "us-east-1"

// settings is the resolved connection configuration of one invocation.
// The source strings say where each value came from, for --debug and
// error messages; they never contain secrets.
type settings struct {
	endpoint    string
	endpointSrc string
	region      string
	regionSrc   string
	creds       aws.CredentialsProvider
	credsSrc    string
}

// resolver resolves settings, reading the Stagecast profile file at most
// once and only when a value is still missing.
type resolver struct {
	service string
	g       globalOpts
	env     Env

	profilePath   string
	profileLoaded bool
	profile       Profile
	profileErr    error
}

func (r *resolver) dataDir() string {
	switch {
	case r.g.dataDir != "":
		return r.g.dataDir
	case r.env.Getenv("STAGECAST_DATA_DIR") != "":
		return r.env.Getenv("STAGECAST_DATA_DIR")
	case r.env.DataDir != "":
		return r.env.DataDir
	}
	return "./data"
}

// stagecastProfile returns the profile file's contents; ok is false when
// the file does not exist. Other read errors are returned.
func (r *resolver) stagecastProfile() (p Profile, ok bool, err error) {
	if !r.profileLoaded {
		r.profileLoaded = true
		r.profilePath = ProfilePath(r.dataDir())
		r.profile, r.profileErr = ReadProfile(r.profilePath)
	}
	if r.profileErr != nil {
		if errors.Is(r.profileErr, fs.ErrNotExist) {
			return Profile{}, false, nil
		}
		return Profile{}, false, configError{r.profileErr.Error()}
	}
	return r.profile, true, nil
}

// endpointEnvVar is the service-specific endpoint variable, named after the
// model's serviceId like the AWS SDKs do ("IVS RealTime" -> IVS_REALTIME).
func endpointEnvVar(service string) string {
	return "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}

func (r *resolver) resolve(ctx context.Context) (settings, error) {
	var s settings
	getenv := r.env.Getenv

	// An AWS profile is consulted only when one is named explicitly.
	var awsCfg *aws.Config
	awsProfile, profileSrc := r.g.profile, "--profile"
	if awsProfile == "" {
		awsProfile, profileSrc = getenv("AWS_PROFILE"), "AWS_PROFILE"
	}
	envKey, envSecret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if awsProfile != "" {
		opts := []func(*config.LoadOptions) error{config.WithSharedConfigProfile(awsProfile)}
		if f := getenv("AWS_CONFIG_FILE"); f != "" {
			opts = append(opts, config.WithSharedConfigFiles([]string{f}))
		}
		if f := getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
			opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
		}
		cfg, err := config.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return s, configError{fmt.Sprintf("load AWS profile %q (from %s): %v", awsProfile, profileSrc, err)}
		}
		awsCfg = &cfg
	}

	// Endpoint.
	switch {
	case r.g.endpointURL != "":
		s.endpoint, s.endpointSrc = r.g.endpointURL, "--endpoint-url"
	case getenv(endpointEnvVar(r.service)) != "":
		s.endpoint, s.endpointSrc = getenv(endpointEnvVar(r.service)), endpointEnvVar(r.service)
	case getenv("AWS_ENDPOINT_URL") != "":
		s.endpoint, s.endpointSrc = getenv("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"
	case awsCfg != nil && awsCfg.BaseEndpoint != nil && *awsCfg.BaseEndpoint != "":
		s.endpoint, s.endpointSrc = *awsCfg.BaseEndpoint, "AWS profile "+awsProfile
	default:
		p, ok, err := r.stagecastProfile()
		if err != nil {
			return s, err
		}
		if !ok || p.EndpointURL == "" {
			return s, configError{fmt.Sprintf("no endpoint configured: start `stagecast serve` (it writes %s) or pass --endpoint-url (or set %s / AWS_ENDPOINT_URL)",
				ProfilePath(r.dataDir()), endpointEnvVar(r.service))}
		}
		s.endpoint, s.endpointSrc = p.EndpointURL, r.profilePath
	}
	endpoint, err := checkEndpoint(s.endpoint)
	if err != nil {
		if s.endpointSrc == "--endpoint-url" {
			return s, usageError{err.Error()}
		}
		return s, configError{fmt.Sprintf("%v (from %s)", err, s.endpointSrc)}
	}
	s.endpoint = endpoint

	// Region.
	switch {
	case r.g.region != "":
		s.region, s.regionSrc = r.g.region, "--region"
	case getenv("AWS_REGION") != "":
		s.region, s.regionSrc = getenv("AWS_REGION"), "AWS_REGION"
	case getenv("AWS_DEFAULT_REGION") != "":
		s.region, s.regionSrc = getenv("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"
	case awsCfg != nil && awsCfg.Region != "":
		s.region, s.regionSrc = awsCfg.Region, "AWS profile "+awsProfile
	default:
		p, ok, err := r.stagecastProfile()
		if err != nil {
			return s, err
		}
		if ok && p.Region != "" {
			s.region, s.regionSrc = p.Region, r.profilePath
		} else {
			s.region, s.regionSrc = defaultRegion, "default"
		}
	}

	// Credentials.
	switch {
	case envKey != "" && envSecret != "":
		s.creds = credentials.NewStaticCredentialsProvider(envKey, envSecret, getenv("AWS_SESSION_TOKEN"))
		s.credsSrc = "environment (AWS_ACCESS_KEY_ID)"
	case awsCfg != nil:
		if awsCfg.Credentials == nil {
			return s, configError{fmt.Sprintf("AWS profile %q has no credentials", awsProfile)}
		}
		s.creds, s.credsSrc = awsCfg.Credentials, "AWS profile "+awsProfile
	default:
		p, ok, err := r.stagecastProfile()
		if err != nil {
			return s, err
		}
		if !ok || p.AccessKeyID == "" || p.SecretAccessKey == "" {
			return s, configError{fmt.Sprintf("unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or start `stagecast serve` (it writes %s)",
				ProfilePath(r.dataDir()))}
		}
		s.creds = credentials.NewStaticCredentialsProvider(p.AccessKeyID, p.SecretAccessKey, "")
		s.credsSrc = r.profilePath
	}
	return s, nil
}

// checkEndpoint validates an endpoint URL and drops a trailing slash so the
// SDK does not build "//Operation" paths.
func checkEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid endpoint URL %q: want http://host[:port] or https://host[:port]", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

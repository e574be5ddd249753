package awscmd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProfileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "data")
	path := ProfilePath(dir)
	p := Profile{EndpointURL: "http://127.0.0.1:8080", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t"}
	require.NoError(t, WriteProfile(path, p))
	require.NoError(t, WriteProfile(path, p), "overwriting works")

	got, err := ReadProfile(path)
	require.NoError(t, err)
	assert.Equal(t, p, got)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), di.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, `{"endpoint_url":"http://127.0.0.1:8080","region":"us-east-1","aws_access_key_id":"AKIAEXAMPLE","aws_secret_access_key":"s3cr3t"}`, string(raw))

	_, err = ReadProfile(filepath.Join(dir, "missing.json"))
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}

var credentialRE = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/ivs/aws4_request`)

func TestConfigurationPrecedence(t *testing.T) {
	t.Parallel()
	type want struct {
		server string // which fake server got the request
		key    string
		region string
	}
	tests := []struct {
		name    string
		service string
		env     map[string]string // "@x" is replaced by server x's URL
		flags   []string
		profile bool // write a Stagecast profile pointing at "profile"
		want    want
	}{{
		name:    "profile file alone",
		service: "ivs", profile: true,
		env:  map[string]string{"AWS_ACCESS_KEY_ID": ""},
		want: want{"profile", "AKIDPROFILE", "eu-central-1"},
	}, {
		name:    "AWS_ENDPOINT_URL beats the profile",
		service: "ivs", profile: true,
		env:  map[string]string{"AWS_ENDPOINT_URL": "@generic"},
		want: want{"generic", "AKIDTESTTESTTEST", "eu-central-1"},
	}, {
		name:    "service variable beats AWS_ENDPOINT_URL",
		service: "ivs", profile: true,
		env:  map[string]string{"AWS_ENDPOINT_URL": "@generic", "AWS_ENDPOINT_URL_IVS": "@service", "AWS_ENDPOINT_URL_IVS_REALTIME": "@other"},
		want: want{"service", "AKIDTESTTESTTEST", "eu-central-1"},
	}, {
		name:    "realtime reads its own variable",
		service: "ivs-realtime", profile: true,
		env:  map[string]string{"AWS_ENDPOINT_URL": "@generic", "AWS_ENDPOINT_URL_IVS": "@other", "AWS_ENDPOINT_URL_IVS_REALTIME": "@service"},
		want: want{"service", "AKIDTESTTESTTEST", "eu-central-1"},
	}, {
		name:    "flag beats everything",
		service: "ivs", profile: true,
		env:   map[string]string{"AWS_ENDPOINT_URL": "@generic", "AWS_ENDPOINT_URL_IVS": "@service", "AWS_REGION": "us-west-2"},
		flags: []string{"--endpoint-url", "@flag", "--region", "ap-northeast-1"},
		want:  want{"flag", "AKIDTESTTESTTEST", "ap-northeast-1"},
	}, {
		name:    "AWS_REGION beats AWS_DEFAULT_REGION and the profile",
		service: "ivs", profile: true,
		env:  map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "sa-east-1"},
		want: want{"profile", "AKIDTESTTESTTEST", "us-west-2"},
	}, {
		name:    "AWS_DEFAULT_REGION beats the profile",
		service: "ivs", profile: true,
		env:  map[string]string{"AWS_DEFAULT_REGION": "sa-east-1"},
		want: want{"profile", "AKIDTESTTESTTEST", "sa-east-1"},
	}, {
		name:    "no profile: default region",
		service: "ivs",
		flags:   []string{"--endpoint-url", "@flag"},
		want:    want{"flag", "AKIDTESTTESTTEST", "us-east-1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			servers := map[string]*fakeServer{}
			for _, n := range []string{"profile", "generic", "service", "other", "flag"} {
				servers[n] = newFakeServer(t, nil)
			}
			subst := func(v string) string {
				if len(v) > 1 && v[0] == '@' {
					return servers[v[1:]].URL
				}
				return v
			}
			vars := map[string]string{}
			for k, v := range tt.env {
				vars[k] = subst(v)
			}
			env := testEnv(t, vars)
			if tt.profile {
				require.NoError(t, WriteProfile(ProfilePath(env.DataDir), Profile{
					EndpointURL: servers["profile"].URL, Region: "eu-central-1",
					AccessKeyID: "AKIDPROFILE", SecretAccessKey: "profile-secret",
				}))
			}
			args := []string{"list-tags-for-resource", "--resource-arn", "arn:aws:ivs:us-east-1:123456789012:channel/abc"}
			for _, f := range tt.flags {
				args = append(args, subst(f))
			}
			res := runCmd(t, env, tt.service, args...)
			require.Equal(t, 0, res.code, res.stderr)
			for name, s := range servers {
				if name != tt.want.server {
					assert.Empty(t, s.requests(), "server %s", name)
				}
			}
			reqs := servers[tt.want.server].requests()
			require.Len(t, reqs, 1)
			m := credentialRE.FindStringSubmatch(reqs[0].Auth)
			require.NotNil(t, m, "authorization header %q", reqs[0].Auth)
			assert.Equal(t, tt.want.key, m[1])
			assert.Equal(t, tt.want.region, m[2])
		})
	}
}

func TestDataDirPrecedence(t *testing.T) {
	t.Parallel()
	flagSrv, envSrv, defSrv := newFakeServer(t, nil), newFakeServer(t, nil), newFakeServer(t, nil)
	flagDir, envDir := t.TempDir(), t.TempDir()
	env := testEnv(t, map[string]string{"STAGECAST_DATA_DIR": envDir})
	for dir, srv := range map[string]*fakeServer{flagDir: flagSrv, envDir: envSrv, env.DataDir: defSrv} {
		require.NoError(t, WriteProfile(ProfilePath(dir), Profile{EndpointURL: srv.URL, AccessKeyID: "A", SecretAccessKey: "S"}))
	}
	res := runCmd(t, env, "ivs", "get-channel", "--arn", "a", "--data-dir", flagDir)
	require.Equal(t, 0, res.code, res.stderr)
	res = runCmd(t, env, "ivs", "get-channel", "--arn", "a")
	require.Equal(t, 0, res.code, res.stderr)
	res = runCmd(t, testEnv(t, map[string]string{}), "ivs", "get-channel", "--arn", "a", "--data-dir", flagDir)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Len(t, flagSrv.requests(), 2)
	assert.Len(t, envSrv.requests(), 1)
	assert.Empty(t, defSrv.requests())
}

func TestAWSSharedProfile(t *testing.T) {
	t.Parallel()
	srv := newFakeServer(t, nil)
	dir := t.TempDir()
	cfgFile, credFile := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	require.NoError(t, os.WriteFile(cfgFile, []byte("[profile dev]\nregion = ap-south-1\n"), 0o600))
	require.NoError(t, os.WriteFile(credFile, []byte("[dev]\naws_access_key_id = AKIDSHARED\naws_secret_access_key = shared-secret\n"), 0o600))
	env := testEnv(t, map[string]string{
		"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_CONFIG_FILE": cfgFile, "AWS_SHARED_CREDENTIALS_FILE": credFile,
	})
	res := runCmd(t, env, "ivs", "get-channel", "--arn", "a", "--profile", "dev", "--endpoint-url", srv.URL)
	require.Equal(t, 0, res.code, res.stderr)
	m := credentialRE.FindStringSubmatch(srv.requests()[0].Auth)
	require.NotNil(t, m)
	assert.Equal(t, "AKIDSHARED", m[1])
	assert.Equal(t, "ap-south-1", m[2])

	res = runCmd(t, env, "ivs", "get-channel", "--arn", "a", "--profile", "nope", "--endpoint-url", srv.URL)
	assert.Equal(t, exitConfig, res.code)
	assert.Contains(t, res.stderr, `AWS profile "nope"`)
}

func TestConfigurationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		flags   []string
		profile string // raw profile file content, "" for none
		want    []string
	}{{
		name: "no endpoint anywhere",
		want: []string{"no endpoint configured", "stagecast serve", "--endpoint-url", "profile.json"},
	}, {
		name:  "no credentials anywhere",
		env:   map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
		flags: []string{"--endpoint-url", "http://127.0.0.1:1"},
		want:  []string{"unable to locate credentials", "stagecast serve"},
	}, {
		name:    "corrupt profile",
		profile: "{not json",
		want:    []string{"parse profile"},
	}, {
		name: "endpoint variable is not a URL",
		env:  map[string]string{"AWS_ENDPOINT_URL": "127.0.0.1:8080"},
		want: []string{"invalid endpoint URL", "AWS_ENDPOINT_URL"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := testEnv(t, tt.env)
			if tt.profile != "" {
				require.NoError(t, os.WriteFile(ProfilePath(env.DataDir), []byte(tt.profile), 0o600))
			}
			res := runCmd(t, env, "ivs", append([]string{"get-channel", "--arn", "a"}, tt.flags...)...)
			assert.Equal(t, exitConfig, res.code, res.stderr)
			for _, w := range tt.want {
				assert.Contains(t, res.stderr, w)
			}
			assert.NotContains(t, res.stderr, "super-secret-key")
		})
	}
}

package awscmd

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const createChannelResponse = `{
  "channel": {
    "arn": "arn:aws:ivs:us-east-1:999999999999:channel/abcdABCDefgh",
    "authorized": false,
    "ingestEndpoint": "f99084460c35.global-contribute.live-video.net",
    "insecureIngest": false,
    "latencyMode": "LOW",
    "name": "my-first-low-latency-channel",
    "playbackUrl": "https://f99084460c35.us-east-1.playback.live-video.net/api/video/v1/us-east-1.999999999999.channel.abcdABCDefgh.m3u8",
    "recordingConfigurationArn": "",
    "tags": {},
    "type": "STANDARD"
  },
  "streamKey": {
    "arn": "arn:aws:ivs:us-east-1:999999999999:stream-key/g1H2I3j4k5L6",
    "channelArn": "arn:aws:ivs:us-east-1:999999999999:channel/abcdABCDefgh",
    "tags": {},
    "value": "sk_us-east-1_abcdABCDefgh_567890abcdef"
  }
}`

// The AWS CLI's output for the response above (seeds/001), with its
// 4-space indentation.
const createChannelOutput = `{
    "channel": {
        "arn": "arn:aws:ivs:us-east-1:999999999999:channel/abcdABCDefgh",
        "authorized": false,
        "ingestEndpoint": "f99084460c35.global-contribute.live-video.net",
        "insecureIngest": false,
        "latencyMode": "LOW",
        "name": "my-first-low-latency-channel",
        "playbackUrl": "https://f99084460c35.us-east-1.playback.live-video.net/api/video/v1/us-east-1.999999999999.channel.abcdABCDefgh.m3u8",
        "recordingConfigurationArn": "",
        "tags": {},
        "type": "STANDARD"
    },
    "streamKey": {
        "arn": "arn:aws:ivs:us-east-1:999999999999:stream-key/g1H2I3j4k5L6",
        "channelArn": "arn:aws:ivs:us-east-1:999999999999:channel/abcdABCDefgh",
        "tags": {},
        "value": "sk_us-east-1_abcdABCDefgh_567890abcdef"
    }
}
`

func TestOutputUsesWireNamesLikeTheAWSCLI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		service  string
		args     []string
		response string
		want     string
	}{{
		name:     "create-channel",
		service:  "ivs",
		args:     []string{"create-channel", "--name", "my-first-low-latency-channel"},
		response: createChannelResponse,
		want:     createChannelOutput,
	}, {
		name:     "participant token timestamp in +00:00 form",
		service:  "ivs-realtime",
		args:     []string{"create-participant-token", "--stage-arn", "S"},
		response: `{"participantToken":{"attributes":{"isFeatured":"false","username":"todd"},"expirationTime":"2023-12-13T04:53:15Z","participantId":"JJj17t0guqdF","token":"eyJ.x.y"}}`,
		want: `{
    "participantToken": {
        "attributes": {
            "isFeatured": "false",
            "username": "todd"
        },
        "expirationTime": "2023-12-13T04:53:15+00:00",
        "participantId": "JJj17t0guqdF",
        "token": "eyJ.x.y"
    }
}
`,
	}, {
		// omitStoppedVideo is absent from the response but printed: the SDK
		// gives members with a Smithy default plain (non-pointer) fields,
		// so absent and false cannot be told apart.
		name:     "fractional timestamps keep microseconds, defaulted members print",
		service:  "ivs-realtime",
		args:     []string{"get-composition", "--arn", "C"},
		response: `{"composition":{"arn":"C","startTime":"2023-12-12T17:09:17.5+01:00","destinations":[{"id":"d","state":"STARTING","configuration":{"name":"","channel":{"channelArn":"ch"}}}],"layout":{"grid":{"featuredParticipantAttribute":"","gridGap":2}},"tags":{}}}`,
		want: `{
    "composition": {
        "arn": "C",
        "destinations": [
            {
                "configuration": {
                    "channel": {
                        "channelArn": "ch"
                    },
                    "name": ""
                },
                "id": "d",
                "state": "STARTING"
            }
        ],
        "layout": {
            "grid": {
                "featuredParticipantAttribute": "",
                "gridGap": 2,
                "omitStoppedVideo": false
            }
        },
        "startTime": "2023-12-12T16:09:17.500000+00:00",
        "tags": {}
    }
}
`,
	}, {
		name:     "encoder configuration video numbers",
		service:  "ivs-realtime",
		args:     []string{"get-encoder-configuration", "--arn", "E"},
		response: `{"encoderConfiguration":{"arn":"E","name":"n","tags":{},"video":{"bitrate":2500000,"framerate":29.97,"height":720,"width":1280}}}`,
		want: `{
    "encoderConfiguration": {
        "arn": "E",
        "name": "n",
        "tags": {},
        "video": {
            "bitrate": 2500000,
            "framerate": 29.97,
            "height": 720,
            "width": 1280
        }
    }
}
`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFakeServer(t, staticReply(tt.response))
			res := runAt(t, srv.URL, tt.service, tt.args...)
			require.Equal(t, 0, res.code, res.stderr)
			assert.Equal(t, tt.want, res.stdout)
		})
	}
}

func TestFormatTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2023, 12, 13, 4, 53, 15, 0, time.UTC), "2023-12-13T04:53:15+00:00"},
		{time.Date(2023, 12, 13, 4, 53, 15, 123456789, time.UTC), "2023-12-13T04:53:15.123456+00:00"},
		{time.Date(2023, 12, 13, 5, 53, 15, 0, time.FixedZone("x", 3600)), "2023-12-13T04:53:15+00:00"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, formatTime(tt.in))
	}
}

// listPage is a canned ListChannels page.
func listPage(names []string, next string) string {
	var items []string
	for _, n := range names {
		items = append(items, fmt.Sprintf(`{"arn":"arn:%s","name":%q,"tags":{}}`, n, n))
	}
	s := `{"channels":[` + strings.Join(items, ",") + `]`
	if next != "" {
		s += fmt.Sprintf(`,"nextToken":%q`, next)
	}
	return s + "}"
}

// threePages serves c1,c2 / c3,c4 / c5 keyed by the request's nextToken.
func threePages(_ int, r recorded) reply {
	switch r.Body["nextToken"] {
	case nil:
		return reply{body: listPage([]string{"c1", "c2"}, "t1")}
	case "t1":
		return reply{body: listPage([]string{"c3", "c4"}, "t2")}
	case "t2":
		return reply{body: listPage([]string{"c5"}, "")}
	}
	return reply{status: 400, body: `{"__type":"ValidationException","exceptionMessage":"bad token"}`}
}

func channelNames(t *testing.T, stdout string) []string {
	t.Helper()
	out := jsonOf(t, stdout).(map[string]any)
	var names []string
	for _, c := range out["channels"].([]any) {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	return names
}

func TestPagination(t *testing.T) {
	t.Parallel()
	t.Run("follows nextToken across pages and merges", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--page-size", "2")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, []string{"c1", "c2", "c3", "c4", "c5"}, channelNames(t, res.stdout))
		assert.NotContains(t, res.stdout, "nextToken")
		assert.NotContains(t, res.stdout, "NextToken")
		reqs := srv.requests()
		require.Len(t, reqs, 3)
		for i, want := range []any{nil, "t1", "t2"} {
			assert.Equal(t, want, reqs[i].Body["nextToken"])
			assert.Equal(t, 2.0, reqs[i].Body["maxResults"])
		}
	})
	t.Run("max-items truncates with a NextToken that resumes", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--max-items", "3")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, []string{"c1", "c2", "c3"}, channelNames(t, res.stdout))
		tok, _ := jsonOf(t, res.stdout).(map[string]any)["NextToken"].(string)
		require.NotEmpty(t, tok)

		res = runAt(t, srv.URL, "ivs", "list-channels", "--starting-token", tok)
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, []string{"c4", "c5"}, channelNames(t, res.stdout))
	})
	t.Run("max-items on a page boundary", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--max-items", "4")
		require.Equal(t, 0, res.code, res.stderr)
		out := jsonOf(t, res.stdout).(map[string]any)
		tok := out["NextToken"].(string)
		res = runAt(t, srv.URL, "ivs", "list-channels", "--starting-token", tok)
		assert.Equal(t, []string{"c5"}, channelNames(t, res.stdout))
	})
	t.Run("max-items covering everything prints no NextToken", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--max-items", "5")
		require.Equal(t, 0, res.code, res.stderr)
		assert.NotContains(t, res.stdout, "NextToken")
	})
	t.Run("no-paginate makes one call and shows nextToken", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--no-paginate")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, []string{"c1", "c2"}, channelNames(t, res.stdout))
		assert.Contains(t, res.stdout, `"nextToken": "t1"`)
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("explicit next-token disables pagination", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, threePages)
		res := runAt(t, srv.URL, "ivs", "list-channels", "--next-token", "t1")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, []string{"c3", "c4"}, channelNames(t, res.stdout))
		assert.Len(t, srv.requests(), 1)
	})
	t.Run("empty listing prints an empty list", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, staticReply(`{"channels":[]}`))
		res := runAt(t, srv.URL, "ivs", "list-channels")
		require.Equal(t, 0, res.code, res.stderr)
		assert.Equal(t, "{\n    \"channels\": []\n}\n", res.stdout)
	})
	t.Run("a repeated token stops the loop", func(t *testing.T) {
		t.Parallel()
		srv := newFakeServer(t, staticReply(listPage([]string{"c"}, "same")))
		res := runAt(t, srv.URL, "ivs", "list-channels")
		assert.Equal(t, exitConnect, res.code)
		assert.Contains(t, res.stderr, "same next token")
	})
}

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		token string
		skip  int
	}{{"", 3}, {"abc", 0}, {"abc", 2}}
	for _, tt := range tests {
		tok, skip, err := decodeToken("nextToken", encodeToken("nextToken", tt.token, tt.skip))
		require.NoError(t, err)
		assert.Equal(t, tt.token, tok)
		assert.Equal(t, tt.skip, skip)
	}
	tok, skip, err := decodeToken("nextToken", "raw-service-token")
	require.NoError(t, err)
	assert.Equal(t, "raw-service-token", tok)
	assert.Zero(t, skip)
	tok, skip, err = decodeToken("nextToken", "legacy___4")
	require.NoError(t, err)
	assert.Equal(t, "legacy", tok)
	assert.Equal(t, 4, skip)
}

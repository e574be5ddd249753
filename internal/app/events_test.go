package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	pwebrtc "github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"
	"github.com/stretchr/testify/require"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/cli"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/events"
	"github.com/stagecast/stagecast/internal/events/admin"
	"github.com/stagecast/stagecast/internal/obs"
	"github.com/stagecast/stagecast/internal/testutil"
	"github.com/stagecast/stagecast/internal/webrtc/loadgen"
)

// eventsNode is a whole node started with a modified config (testutil.Start
// takes none).
type eventsNode struct {
	*app.App
	IVS      *ivs.Client
	Realtime *ivsrealtime.Client
	stop     func()
}

func startEventsNode(t *testing.T, dir string, mod func(*config.Config)) *eventsNode {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.API.Listen, cfg.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.RTMP.Listen, cfg.RTMPS.Listen, cfg.SRT.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Realtime.UDPListen = "127.0.0.1:0"
	cfg.Events.Retry = config.EventsRetry{MaxAttempts: 3, Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("STAGECAST_TEST_LOG") != "" {
		log = obs.NewLogger(os.Stderr, "text", "debug")
	}
	runCtx, cancel := context.WithCancel(context.Background())
	a, err := app.New(runCtx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start node: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(runCtx); err != nil {
			t.Errorf("node stopped with error: %v", err)
		}
	})
	var once sync.Once
	n := &eventsNode{App: a, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(n.stop)
	n.IVS, n.Realtime = testutil.Clients(a.APIEndpoint(), a.Config().Region, a.Credentials.ID, a.Credentials.Secret)
	return n
}

// signedReceiver accepts only correctly signed webhooks and keeps the events.
type signedReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []events.Event
	bad    int
}

func newSignedReceiver(t *testing.T, secret string) *signedReceiver {
	return newSignedReceiverOn(t, secret, nil)
}

// newSignedReceiverOn serves on ln (nil: a new 127.0.0.1 port).
func newSignedReceiverOn(t *testing.T, secret string, ln net.Listener) *signedReceiver {
	r := &signedReceiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := events.Verify(secret, req.Header, body, time.Now(), time.Minute); err != nil {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var e events.Event
		if err := json.Unmarshal(body, &e); err != nil {
			r.bad++
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.events = append(r.events, e)
	}))
	if ln != nil {
		r.srv.Listener.Close()
		r.srv.Listener = ln
	}
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *signedReceiver) got() ([]events.Event, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.Event(nil), r.events...), r.bad
}

// TestConfigWebhookReceivesCompositionEvents: a webhook from the config
// file gets the "IVS Composition State Change" events StartComposition
// emits, signed with its secret.
func TestConfigWebhookReceivesCompositionEvents(t *testing.T) {
	t.Parallel()
	recv := newSignedReceiver(t, "hook-secret")
	n := startEventsNode(t, t.TempDir(), func(c *config.Config) {
		c.Events.Webhooks = []config.EventWebhook{{URL: recv.srv.URL, Secret: "hook-secret",
			EventPattern: map[string]any{"detail-type": []any{"IVS Composition State Change"}}}}
	})
	ctx := context.Background()
	st, err := n.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("events")})
	require.NoError(t, err)
	ch, err := n.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("events")})
	require.NoError(t, err)
	comp, err := n.Realtime.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []rttypes.DestinationConfiguration{{Channel: &rttypes.ChannelDestinationConfiguration{ChannelArn: ch.Channel.Arn}}}})
	require.NoError(t, err)

	var start *events.Event
	require.Eventually(t, func() bool {
		evs, _ := recv.got()
		for i, e := range evs {
			var d map[string]any
			if json.Unmarshal(e.Detail, &d) == nil && d["event_name"] == "Session Start" {
				start = &evs[i]
				return true
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond, "Session Start reaches the webhook")
	require.Equal(t, "aws.ivs", start.Source)
	require.Equal(t, "IVS Composition State Change", start.DetailType)
	require.Equal(t, n.Config().AccountID, start.Account)
	require.Equal(t, []string{*comp.Composition.Arn}, start.Resources)
	require.Contains(t, string(start.Detail), *st.Stage.Arn)
	evs, bad := recv.got()
	require.Zero(t, bad, "every request carries a valid signature")
	for _, e := range evs {
		require.Equal(t, "IVS Composition State Change", e.DetailType, "the pattern selects composition events only")
	}
	if comp.Composition.State == rttypes.CompositionStateFailed {
		// No compositor on this node: the failure reaches the webhook too.
		require.Eventually(t, func() bool {
			evs, _ := recv.got()
			for _, e := range evs {
				var d map[string]any
				if json.Unmarshal(e.Detail, &d) == nil && d["event_name"] == "Session Failure" {
					return true
				}
			}
			return false
		}, 20*time.Second, 20*time.Millisecond, "Session Failure reaches the webhook")
	}
	info, err := n.EventBus.Stats("webhook-1")
	require.NoError(t, err)
	require.Equal(t, int64(0), info.Targets[0].DeadLettered)
}

// TestStartCompositionRuleFromConfig is the seed's EventBridge rule +
// Lambda as one config rule: "Participant Published" on a stage starts one
// composition per stage session into the configured channel.
func TestStartCompositionRuleFromConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first := startEventsNode(t, dir, nil)
	st, err := first.Realtime.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String("seed")})
	require.NoError(t, err)
	ch, err := first.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("seed")})
	require.NoError(t, err)
	enc, err := first.Realtime.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{})
	require.NoError(t, err)
	first.stop()

	n := startEventsNode(t, dir, func(c *config.Config) {
		c.Events.Rules = []config.EventRule{{
			Name: "compose-on-publish",
			EventPattern: `{"source":["aws.ivs"],"detail-type":["IVS Stage Update"],` +
				`"detail":{"event_name":["Participant Published"]}}`,
			StartComposition: &config.EventStartComposition{
				DestinationChannelArn: *ch.Channel.Arn, EncoderConfigurationArn: *enc.EncoderConfiguration.Arn, Layout: "pip"},
		}}
	})
	// What the SFU publishes when a participant starts publishing.
	publish := func(session, participant string) {
		n.Events.Publish(ctx, "IVS Stage Update", []string{*st.Stage.Arn}, map[string]any{
			"session_id": session, "event_name": "Participant Published", "participant_id": participant,
			"user_id": "", "event_time": time.Now().UTC().Format(events.TimeFormat)})
	}
	publish("st-session1", "p1")
	publish("st-session1", "p2")
	require.Eventually(t, func() bool {
		s, err := n.EventBus.Stats("compose-on-publish")
		return err == nil && s.Targets[0].Delivered == 2 && s.Pending == 0
	}, 20*time.Second, 20*time.Millisecond, "both events handled")
	list, err := n.Realtime.ListCompositions(ctx, &ivsrealtime.ListCompositionsInput{FilterByStageArn: st.Stage.Arn})
	require.NoError(t, err)
	require.Len(t, list.Compositions, 1, "one session starts one composition")
	got, err := n.Realtime.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: list.Compositions[0].Arn})
	require.NoError(t, err)
	require.Len(t, got.Composition.Destinations, 1)
	dest := got.Composition.Destinations[0].Configuration.Channel
	require.Equal(t, *ch.Channel.Arn, *dest.ChannelArn)
	require.Equal(t, *enc.EncoderConfiguration.Arn, *dest.EncoderConfigurationArn)
	require.NotNil(t, got.Composition.Layout.Pip, "the rule's pip layout")
	dls, err := n.EventBus.DeadLetters(ctx, "compose-on-publish")
	require.NoError(t, err)
	require.Empty(t, dls)
}

// TestRulesAdminAPI drives the SigV4-authenticated rules API the CLI uses.
func TestRulesAdminAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := startEventsNode(t, t.TempDir(), func(c *config.Config) {
		c.Events.Webhooks = []config.EventWebhook{{URL: "http://127.0.0.1:1/never", Secret: "x"}}
	})
	c := &admin.Client{Endpoint: n.APIEndpoint(), Region: n.Config().Region,
		AccessKeyID: n.Credentials.ID, SecretAccessKey: n.Credentials.Secret}
	recv := newSignedReceiver(t, "api-secret")
	created, err := c.Create(ctx, events.Rule{Name: "api-hook", Enabled: true,
		EventPattern: json.RawMessage(`{"detail-type":["Custom"]}`),
		Targets:      []events.Target{{Type: events.TargetWebhook, Webhook: &events.WebhookTarget{URL: recv.srv.URL, Secret: "api-secret"}}}})
	require.NoError(t, err)
	require.Equal(t, "api-secret", created.Rule.Targets[0].Webhook.Secret, "the creator sees the secret once")

	_, err = c.Create(ctx, events.Rule{Name: "bad", Enabled: true, EventPattern: json.RawMessage(`{"a":"b"}`)})
	var ae *admin.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Contains(t, ae.Message, "a: must be an array")

	n.Events.Publish(ctx, "Custom", nil, map[string]any{"k": "v"})
	require.Eventually(t, func() bool { evs, _ := recv.got(); return len(evs) == 1 }, 20*time.Second, 20*time.Millisecond)

	var list []admin.RuleInfo
	require.Eventually(t, func() bool {
		list, err = c.List(ctx)
		return err == nil && len(list) == 2 && list[0].Stats.Targets[0].Delivered == 1
	}, 20*time.Second, 20*time.Millisecond, "the delivery is counted")
	require.Equal(t, "api-hook", list[0].Rule.Name)
	require.Equal(t, "[REDACTED]", list[0].Rule.Targets[0].Webhook.Secret)
	require.Equal(t, events.OriginConfig, list[1].Rule.Origin)

	// The config webhook cannot be reached: its event ends in dead letters.
	n.Events.Publish(ctx, "Anything", nil, nil)
	// Other events may dead-letter on that webhook too (it matches every
	// aws.ivs event); look for this one.
	isAnything := func(dl events.DeadLetter) bool {
		var e events.Event
		return json.Unmarshal(dl.Event, &e) == nil && e.DetailType == "Anything" && dl.Attempts == 3
	}
	require.Eventually(t, func() bool {
		dls, err := c.DeadLetters(ctx, "webhook-1")
		return err == nil && slices.ContainsFunc(dls, isAnything)
	}, 30*time.Second, 20*time.Millisecond)
	all, err := c.DeadLetters(ctx, "")
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(all, isAnything), "the dead letter is listed with all the others")

	var de *admin.Error
	require.ErrorAs(t, c.Delete(ctx, "webhook-1"), &de)
	require.Equal(t, http.StatusConflict, de.Status)
	require.NoError(t, c.Delete(ctx, "api-hook"))
	_, err = c.Get(ctx, "api-hook")
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusNotFound, de.Status)

	_, err = c.Create(ctx, events.Rule{Name: "huge", Description: strings.Repeat("x", admin.MaxBodyBytes)})
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusRequestEntityTooLarge, de.Status)

	bad := &admin.Client{Endpoint: n.APIEndpoint(), Region: n.Config().Region, AccessKeyID: n.Credentials.ID, SecretAccessKey: "wrong"}
	_, err = bad.List(ctx)
	require.ErrorAs(t, err, &de)
	require.Equal(t, http.StatusForbidden, de.Status)
}

// TestRulesCLI runs "stagecast rules ..." against a running node found
// through its data directory.
func TestRulesCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := startEventsNode(t, dir, nil)
	run := func(args ...string) (string, string, int) {
		var out, errOut strings.Builder
		code := cli.Main(context.Background(), append(args, "--data-dir", dir), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	file := filepath.Join(t.TempDir(), "event.json")
	out, errOut, code := run("rules", "create", "--name", "to-file", "--event-pattern", `{"detail-type":["CLI Test"]}`,
		"--exec", `sh -c 'cat > "$0"' `+file, "--timeout", "5s")
	require.Equal(t, 0, code, errOut)
	var created admin.RuleInfo
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.Equal(t, []string{"sh", "-c", `cat > "$0"`, file}, created.Rule.Targets[0].Exec.Command)

	out, errOut, code = run("rules", "create", "--name", "hook", "--event-pattern", `{"source":["aws.ivs"]}`, "--webhook", "http://127.0.0.1:1/x")
	require.Equal(t, 0, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.Len(t, created.Rule.Targets[0].Webhook.Secret, 32, "a secret is generated and shown once")

	_, errOut, code = run("rules", "create", "--name", "bad", "--event-pattern", `{"detail":{"n":[{"numeric":[">"]}]}}`, "--webhook", "http://x/y")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "detail.n[0].numeric: needs [op, number]")

	n.Events.Publish(context.Background(), "CLI Test", nil, map[string]any{"k": "v"})
	require.Eventually(t, func() bool {
		raw, err := os.ReadFile(file)
		return err == nil && strings.Contains(string(raw), `"detail-type":"CLI Test"`)
	}, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		out, _, _ = run("rules", "list")
		return strings.Contains(out, "to-file") && regexp.MustCompile(`to-file\s+api\s+true\s+exec\s+1\s+0\s+0\s+0`).MatchString(out)
	}, 20*time.Second, 20*time.Millisecond, "list shows the delivery")
	require.Eventually(t, func() bool {
		out, _, _ = run("rules", "dead-letters", "hook")
		return strings.Contains(out, `"rule": "hook"`)
	}, 20*time.Second, 20*time.Millisecond, "the unreachable webhook dead-letters the event")

	out, _, code = run("rules", "get", "hook")
	require.Equal(t, 0, code)
	require.Contains(t, out, "[REDACTED]")
	_, _, code = run("rules", "delete", "hook")
	require.Equal(t, 0, code)
	_, errOut, code = run("rules", "get", "hook")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "rule not found")
}

// TestEventsConfigFromYAML loads the docs/events.md example through
// config.Load and checks the rules the node runs.
func TestEventsConfigFromYAML(t *testing.T) {
	t.Parallel()
	yaml := `
events:
  retry: {max_attempts: 3, base: 20ms, max: 100ms}
  webhooks:
    - url: https://hooks.example.com/ivs
      secret: change-me
      event_pattern: {detail-type: ["IVS Stream State Change"]}
    - name: named-hook
      url: http://127.0.0.1:9999/named
      secret: x
  rules:
    - name: compose-on-publish
      event_pattern: '{"source":["aws.ivs"],"detail-type":["IVS Stage Update"],"detail":{"event_name":["Participant Published"]}}'
      start_composition:
        destination_channel_arn: arn:aws:ivs:us-east-1:123456789012:channel/AbCdEf123456
        layout: pip
    - name: archive
      event_pattern: {source: ["aws.ivs"], detail: {n: [{numeric: [">", 0]}]}}
      enabled: false
      targets:
        - exec: {command: ["sh", "-c", "cat >> /dev/null"], timeout: 10s}
        - webhook: {url: "http://127.0.0.1:9999/hook", secret: s3cret}
`
	file := filepath.Join(t.TempDir(), "stagecast.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o600))
	loaded, err := config.Load([]string{"--config", file}, func(string) string { return "" })
	require.NoError(t, err)
	n := startEventsNode(t, t.TempDir(), func(c *config.Config) { c.Events = loaded.Events })
	rules := n.EventBus.Rules()
	require.Len(t, rules, 4)
	byName := map[string]events.Rule{}
	for _, r := range rules {
		byName[r.Name] = r
		require.Equal(t, events.OriginConfig, r.Origin)
	}
	require.JSONEq(t, `{"detail-type":["IVS Stream State Change"]}`, string(byName["webhook-1"].EventPattern))
	require.Equal(t, "http://127.0.0.1:9999/named", byName["named-hook"].Targets[0].Webhook.URL)
	require.JSONEq(t, config.AllEventsPattern, string(byName["named-hook"].EventPattern))
	sc := byName["compose-on-publish"].Targets[0].StartComposition
	require.NotNil(t, sc)
	require.NotNil(t, sc.Layout.Pip)
	archive := byName["archive"]
	require.False(t, archive.Enabled)
	require.JSONEq(t, `{"source":["aws.ivs"],"detail":{"n":[{"numeric":[">",0]}]}}`, string(archive.EventPattern))
	require.Equal(t, []string{"sh", "-c", "cat >> /dev/null"}, archive.Targets[0].Exec.Command)
	require.Equal(t, "s3cret", archive.Targets[1].Webhook.Secret)

	bad := strings.ReplaceAll(yaml, `secret: change-me`, `secret: ""`)
	bad = strings.ReplaceAll(bad, `[">", 0]`, `[">"]`)
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	_, err = config.Load([]string{"--config", file}, func(string) string { return "" })
	require.ErrorContains(t, err, "events.webhooks[0].secret must not be empty")
	require.ErrorContains(t, err, "events.rules[1].event_pattern: invalid event pattern: detail.n[0].numeric")
}

// TestServerRestartResumesPendingDeliveries stops the whole node while its
// webhook receiver is down and starts it again on the same data directory:
// the receiver, once up, gets every event exactly once.
func TestServerRestartResumesPendingDeliveries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // receiver down
	cfgMod := func(c *config.Config) {
		c.Events.Retry = config.EventsRetry{MaxAttempts: 100, Base: 20 * time.Millisecond, Max: 50 * time.Millisecond}
		c.Events.Webhooks = []config.EventWebhook{{URL: "http://" + addr + "/hook", Secret: "restart"}}
	}
	n := startEventsNode(t, dir, cfgMod)
	const count = 5
	for i := range count {
		n.Events.Publish(context.Background(), "Restart Test", nil, map[string]any{"i": i})
	}
	require.Eventually(t, func() bool {
		s, err := n.EventBus.Stats("webhook-1")
		return err == nil && s.Pending == count && s.Targets[0].Failed >= count
	}, 20*time.Second, 20*time.Millisecond)
	n.stop()

	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	recv := newSignedReceiverOn(t, "restart", ln)

	n2 := startEventsNode(t, dir, cfgMod)
	require.Eventually(t, func() bool {
		s, _ := n2.EventBus.Stats("webhook-1")
		return s.Pending == 0 && s.Targets[0].Delivered == count
	}, 20*time.Second, 20*time.Millisecond)
	evs, bad := recv.got()
	require.Zero(t, bad)
	seen := map[string]int{}
	for _, e := range evs {
		require.Equal(t, "Restart Test", e.DetailType)
		seen[e.ID]++
	}
	require.Len(t, seen, count)
	for id, c := range seen {
		require.Equal(t, 1, c, "event %s", id)
	}
}

// TestStreamStateChangeReachesConfigWebhook is the case: ffmpeg
// publishes to a channel over RTMP and the "IVS Stream State Change"
// events reach the webhook from the config file, signed.
func TestStreamStateChangeReachesConfigWebhook(t *testing.T) {
	t.Parallel()
	const ffmpeg = "/usr/bin/ffmpeg"
	if _, err := os.Stat(ffmpeg); err != nil {
		t.Skipf("needs %s: %v", ffmpeg, err)
	}
	recv := newSignedReceiver(t, "stream-secret")
	n := startEventsNode(t, t.TempDir(), func(c *config.Config) {
		c.Events.Webhooks = []config.EventWebhook{{URL: recv.srv.URL, Secret: "stream-secret",
			EventPattern: `{"detail-type":["IVS Stream State Change"]}`}}
	})
	ctx := context.Background()
	ch, err := n.IVS.CreateChannel(ctx, &ivs.CreateChannelInput{Name: aws.String("webhooked")})
	require.NoError(t, err)

	fctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(fctx, ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000", "-t", "60",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-f", "flv", n.Identity.RTMPSURL()+*ch.StreamKey.Value) // plain RTMP needs insecureIngest
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cmd.Wait() })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("ffmpeg: %s", stderr.String())
		}
	})

	var start events.Event
	require.Eventually(t, func() bool {
		evs, _ := recv.got()
		for _, e := range evs {
			var d map[string]any
			if json.Unmarshal(e.Detail, &d) == nil && d["event_name"] == "Stream Start" {
				start = e
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "Stream Start reaches the webhook")
	require.Equal(t, []string{*ch.Channel.Arn}, start.Resources)
	require.Equal(t, "aws.ivs", start.Source)
	var d map[string]any
	require.NoError(t, json.Unmarshal(start.Detail, &d))
	require.Equal(t, "webhooked", d["channel_name"])
	require.NotEmpty(t, d["stream_id"])
	_, bad := recv.got()
	require.Zero(t, bad, "every request carries a valid signature")
}

// TestSeedRuleWithRealParticipant is the seed end to end with zero API
// calls for the rule: a WHIP participant publishes, the SFU emits "IVS
// Stage Update"/"Participant Published", and the config rule starts one
// composition of that stage session into the channel.
func TestSeedRuleWithRealParticipant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	first := startEventsNode(t, dir, nil)
	ch, err := first.IVS.CreateChannel(c, &ivs.CreateChannelInput{Name: aws.String("seed-out")})
	require.NoError(t, err)
	first.stop()

	n := startEventsNode(t, dir, func(cfg *config.Config) {
		cfg.Events.Rules = []config.EventRule{{
			Name: "seed-lambda",
			EventPattern: map[string]any{"source": []any{"aws.ivs"}, "detail-type": []any{"IVS Stage Update"},
				"detail": map[string]any{"event_name": []any{"Participant Published"}}},
			StartComposition: &config.EventStartComposition{DestinationChannelArn: *ch.Channel.Arn},
		}}
	})
	stageUpdates := n.EventBus.Subscribe("test", 64)
	st, err := n.Realtime.CreateStage(c, &ivsrealtime.CreateStageInput{Name: aws.String("seed")})
	require.NoError(t, err)
	tok, err := n.Realtime.CreateParticipantToken(c, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String("user-1")})
	require.NoError(t, err)
	video, err := pwebrtc.NewTrackLocalStaticSample(pwebrtc.RTPCodecCapability{MimeType: pwebrtc.MimeTypeVP8}, "video", "user-1")
	require.NoError(t, err)
	cl := &loadgen.Client{Base: n.MediaEndpoint(), Token: aws.ToString(tok.ParticipantToken.Token)}
	peer, err := cl.Publish(c, video)
	require.NoError(t, err)
	require.NoError(t, peer.WaitConnected(c))
	feedCtx, stopFeed := context.WithCancel(c)
	var feedWG sync.WaitGroup
	feedWG.Go(func() {
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for {
			select {
			case <-feedCtx.Done():
				return
			case <-tick.C:
				_ = video.WriteSample(pmedia.Sample{Data: make([]byte, 200), Duration: time.Second / 30})
			}
		}
	})
	defer func() { stopFeed(); feedWG.Wait(); _ = peer.Close(context.Background()) }()

	var published events.Event
	require.Eventually(t, func() bool {
		for {
			select {
			case e := <-stageUpdates.C():
				if e.DetailType == "IVS Stage Update" && strings.Contains(string(e.Detail), `"Participant Published"`) {
					published = e
					return true
				}
			default:
				return false
			}
		}
	}, 30*time.Second, 20*time.Millisecond, "the SFU emits Participant Published")
	var detail struct {
		SessionID string `json:"session_id"`
	}
	require.NoError(t, json.Unmarshal(published.Detail, &detail))
	require.Equal(t, []string{*st.Stage.Arn}, published.Resources)

	var comps []rttypes.CompositionSummary
	require.Eventually(t, func() bool {
		list, err := n.Realtime.ListCompositions(c, &ivsrealtime.ListCompositionsInput{FilterByStageArn: st.Stage.Arn})
		if err != nil {
			return false
		}
		comps = list.Compositions
		return len(comps) == 1
	}, 30*time.Second, 50*time.Millisecond, "the rule starts a composition")
	got, err := n.Realtime.GetComposition(c, &ivsrealtime.GetCompositionInput{Arn: comps[0].Arn})
	require.NoError(t, err)
	require.Equal(t, *ch.Channel.Arn, *got.Composition.Destinations[0].Configuration.Channel.ChannelArn)
	require.NotEmpty(t, detail.SessionID)
	s, err := n.EventBus.Stats("seed-lambda")
	require.NoError(t, err)
	require.Zero(t, s.Targets[0].DeadLettered)
}

package testutil

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivs"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"

	"github.com/stagecast/stagecast/internal/app"
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/obs"
)

// Server is a running node and SDK clients signed with its credentials.
type Server struct {
	*app.App
	DataDir  string
	IVS      *ivs.Client
	Realtime *ivsrealtime.Client
	stop     func()
}

// Start runs a node on dataDir ("" = a fresh temp dir) until the test ends
// or Stop is called.
func Start(t testing.TB, dataDir string) *Server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg := config.Default()
	cfg.DataDir = dataDir
	cfg.API.Listen = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.RTMP.Listen = "127.0.0.1:0"
	cfg.RTMPS.Listen = "127.0.0.1:0"
	cfg.SRT.Listen = "127.0.0.1:0"
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("STAGECAST_TEST_LOG") != "" {
		log = obs.NewLogger(os.Stderr, "text", "debug")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("start node: %v", err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Run(ctx); err != nil {
			t.Errorf("node stopped with error: %v", err)
		}
	})
	var once sync.Once
	s := &Server{App: a, DataDir: dataDir, stop: func() { once.Do(func() { cancel(); wg.Wait() }) }}
	t.Cleanup(s.Stop)
	s.IVS, s.Realtime = Clients(a.APIEndpoint(), a.Config().Region, a.Credentials.ID, a.Credentials.Secret)
	return s
}

// Stop shuts the node down and waits for it.
func (s *Server) Stop() { s.stop() }

// Clients returns official SDK clients for an endpoint and credentials.
func Clients(endpoint, region, id, secret string) (*ivs.Client, *ivsrealtime.Client) {
	cfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""), RetryMaxAttempts: 1}
	return ivs.NewFromConfig(cfg, func(o *ivs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		ivsrealtime.NewFromConfig(cfg, func(o *ivsrealtime.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

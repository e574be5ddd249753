package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is the whole process configuration.
type Config struct {
	// DataDir holds the database, keys and the CLI profile.
	DataDir string `yaml:"data_dir"`
	// Region and AccountID appear in every ARN. An empty AccountID is
	// generated on first start and kept in DataDir.
	Region    string `yaml:"region"`
	AccountID string `yaml:"account_id"`
	// PublicHost is the host clients use to reach this server; it goes into
	// playback URLs, ingest endpoints and stage endpoints.
	PublicHost string `yaml:"public_host"`

	API   Listener `yaml:"api"`   // the IVS-compatible control API
	HTTP  Listener `yaml:"http"`  // playback, WHIP, stage events, web pages
	RTMP  Listener `yaml:"rtmp"`  // RTMP ingest
	RTMPS Listener `yaml:"rtmps"` // RTMPS ingest
	SRT   Listener `yaml:"srt"`   // SRT ingest (UDP)

	Log Log `yaml:"log"`

	// GCMinHeapMiB is a heap floor: the Go collector's heap goal becomes
	// twice (live heap + floor) instead of twice the live heap (0: off).
	// See docs/config.md: it keeps a 2 MiB live heap from being collected
	// twenty times a second under API or media load.
	GCMinHeapMiB int `yaml:"gc_min_heap_mib"`

	// Subsystem sections, each defined (with its defaults and validation)
	// in its own file of this package.
	Ingest    Ingest    `yaml:"ingest"`    // ingest.go
	Playback  Playback  `yaml:"playback"`  // playback.go
	Transcode Transcode `yaml:"transcode"` // transcode.go
	Recording Recording `yaml:"recording"` // recording.go
	Events    Events    `yaml:"events"`    // events.go
	Realtime  Realtime  `yaml:"realtime"`  // realtime.go
	Compose   Compose   `yaml:"compose"`   // compose.go
}

// Listener is one listening socket.
type Listener struct {
	// Listen is host:port; port 0 picks a free port.
	Listen string `yaml:"listen"`
	// PublicPort is the port clients use when it differs from the listening
	// one (behind NAT or a proxy); 0 means the listening port.
	PublicPort int `yaml:"public_port"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Default returns the zero-config single-node configuration.
func Default() Config {
	return Config{
		DataDir:      "./data",
		Region:       "us-east-1",
		PublicHost:   "127.0.0.1",
		API:          Listener{Listen: "127.0.0.1:8080"},
		HTTP:         Listener{Listen: "127.0.0.1:8081"},
		RTMP:         Listener{Listen: "127.0.0.1:1935"},
		RTMPS:        Listener{Listen: "127.0.0.1:4443"},
		SRT:          Listener{Listen: "127.0.0.1:9000"},
		Log:          Log{Level: "info", Format: "text"},
		GCMinHeapMiB: DefaultGCMinHeapMiB,
		Ingest:       defaultIngest(),
		Playback:     defaultPlayback(),
		Transcode:    defaultTranscode(),
		Recording:    defaultRecording(),
		Events:       defaultEvents(),
		Realtime:     defaultRealtime(),
		Compose:      defaultCompose(),
	}
}

// DefaultGCMinHeapMiB is the default [Config.GCMinHeapMiB].
const DefaultGCMinHeapMiB = 64

// maxGCMinHeapMiB bounds [Config.GCMinHeapMiB] (16 GiB).
const maxGCMinHeapMiB = 16 << 10

// setting binds one configuration value to its environment variable and
// flag.
type setting struct {
	env, flag, usage string
	str              *string
}

func (c *Config) settings() []setting {
	return []setting{
		{"STAGECAST_DATA_DIR", "data-dir", "directory for the database, keys and CLI profile", &c.DataDir},
		{"STAGECAST_REGION", "region", "region in ARNs", &c.Region},
		{"STAGECAST_ACCOUNT_ID", "account-id", "12-digit account id in ARNs (generated on first start when empty)", &c.AccountID},
		{"STAGECAST_PUBLIC_HOST", "public-host", "host name clients use to reach this server", &c.PublicHost},
		{"STAGECAST_API_LISTEN", "api-listen", "control API listen address", &c.API.Listen},
		{"STAGECAST_HTTP_LISTEN", "http-listen", "playback/WHIP/events/web listen address", &c.HTTP.Listen},
		{"STAGECAST_RTMP_LISTEN", "rtmp-listen", "RTMP ingest listen address", &c.RTMP.Listen},
		{"STAGECAST_RTMPS_LISTEN", "rtmps-listen", "RTMPS ingest listen address", &c.RTMPS.Listen},
		{"STAGECAST_SRT_LISTEN", "srt-listen", "SRT ingest listen address (UDP)", &c.SRT.Listen},
		{"STAGECAST_LOG_LEVEL", "log-level", "debug, info, warn or error", &c.Log.Level},
		{"STAGECAST_LOG_FORMAT", "log-format", "text or json", &c.Log.Format},
	}
}

// Load builds the configuration: defaults, then the YAML file named by
// --config or STAGECAST_CONFIG (if any), then environment, then flags.
// args are the command's arguments (flags only).
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	configPath := fs.String("config", getenv("STAGECAST_CONFIG"), "YAML configuration file")
	flagValues := map[string]*string{}
	for _, s := range c.settings() {
		flagValues[s.flag] = fs.String(s.flag, "", s.usage)
	}
	if err := fs.Parse(args); err != nil {
		return c, fmt.Errorf("%w\n%s", err, Usage())
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q\n%s", fs.Arg(0), Usage())
	}
	if *configPath != "" {
		raw, err := os.ReadFile(*configPath)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", *configPath, err)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, s := range c.settings() {
		if v := getenv(s.env); v != "" {
			*s.str = v
		}
		if set[s.flag] {
			*s.str = *flagValues[s.flag]
		}
	}
	return c, c.Validate()
}

// Usage describes the serve flags and their environment variables.
func Usage() string {
	var b strings.Builder
	b.WriteString("Usage: stagecast serve [flags]\n\nFlags (each also read from the environment variable shown):\n")
	b.WriteString("  --config FILE            YAML configuration file (STAGECAST_CONFIG)\n")
	d := Default()
	for _, s := range d.settings() {
		def := *s.str
		fmt.Fprintf(&b, "  --%-22s %s (%s", s.flag+" V", s.usage, s.env)
		if def != "" {
			fmt.Fprintf(&b, "; default %q", def)
		}
		b.WriteString(")\n")
	}
	return b.String()
}

var (
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
)

// Validate reports every invalid setting at once.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if !regionRE.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region: %q is not a region name like us-east-1", c.Region))
	}
	if c.AccountID != "" && !accountRE.MatchString(c.AccountID) {
		errs = append(errs, fmt.Errorf("account_id: %q must be 12 digits", c.AccountID))
	}
	if c.PublicHost == "" || strings.ContainsAny(c.PublicHost, "/ :") && net.ParseIP(c.PublicHost) == nil {
		errs = append(errs, fmt.Errorf("public_host: %q must be a host name or IP address", c.PublicHost))
	}
	for name, l := range map[string]Listener{"api": c.API, "http": c.HTTP, "rtmp": c.RTMP, "rtmps": c.RTMPS, "srt": c.SRT} {
		if _, port, err := net.SplitHostPort(l.Listen); err != nil {
			errs = append(errs, fmt.Errorf("%s.listen: %q: %v", name, l.Listen, err))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s.listen: port %q is not 0-65535", name, port))
		}
		if l.PublicPort < 0 || l.PublicPort > 65535 {
			errs = append(errs, fmt.Errorf("%s.public_port: %d is not 0-65535", name, l.PublicPort))
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Log.Format))
	}
	if c.GCMinHeapMiB < 0 || c.GCMinHeapMiB > maxGCMinHeapMiB {
		errs = append(errs, fmt.Errorf("gc_min_heap_mib: %d is not 0-%d", c.GCMinHeapMiB, maxGCMinHeapMiB))
	}
	errs = append(errs, c.Ingest.validate(), c.Playback.validate(), c.Transcode.validate(),
		c.Recording.validate(), c.Events.validate(), c.Realtime.validate(), c.Compose.validate())
	return errors.Join(errs...)
}

// Port returns the port of a host:port listen address (0 if none).
func Port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}

package awsmodel

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

//go:embed models/*.json
var files embed.FS

// Service names accepted by Load.
const (
	IVS      = "ivs"
	Realtime = "ivs-realtime"
)

// Model is one service's botocore model.
type Model struct {
	Name       string
	Metadata   Metadata             `json:"metadata"`
	Operations map[string]Operation `json:"operations"`
	Shapes     map[string]*Shape    `json:"shapes"`
	// Paginators maps an operation name to its pagination description.
	Paginators map[string]Paginator `json:"-"`
}

// Metadata is the model's service metadata.
type Metadata struct {
	APIVersion     string `json:"apiVersion"`
	EndpointPrefix string `json:"endpointPrefix"`
	Protocol       string `json:"protocol"`
	ServiceID      string `json:"serviceId"`
	SigningName    string `json:"signingName"`
}

// Operation is one API operation.
type Operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input         *ShapeRef  `json:"input"`
	Output        *ShapeRef  `json:"output"`
	Errors        []ShapeRef `json:"errors"`
	Documentation string     `json:"documentation"`
}

// ShapeRef names a shape.
type ShapeRef struct {
	Shape string `json:"shape"`
}

// Member is one member of a structure.
type Member struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`     // "", "uri", "querystring", "header"
	LocationName     string `json:"locationName"` // wire name when Location is set
	IdempotencyToken bool   `json:"idempotencyToken"`
	Documentation    string `json:"documentation"`
}

// Shape is one model shape.
type Shape struct {
	Type      string             `json:"type"` // structure, string, integer, long, float, boolean, timestamp, list, map
	Members   map[string]*Member `json:"members"`
	Required  []string           `json:"required"`
	Member    *ShapeRef          `json:"member"` // list element
	Key       *ShapeRef          `json:"key"`    // map key
	Value     *ShapeRef          `json:"value"`  // map value
	Enum      []string           `json:"enum"`
	Min       *float64           `json:"min"`
	Max       *float64           `json:"max"`
	Pattern   string             `json:"pattern"`
	Sensitive bool               `json:"sensitive"`
	Exception bool               `json:"exception"`
	Error     *struct {
		HTTPStatusCode int  `json:"httpStatusCode"`
		SenderFault    bool `json:"senderFault"`
	} `json:"error"`
	Documentation string `json:"documentation"`
}

// Paginator describes how an operation pages.
type Paginator struct {
	InputToken  string `json:"input_token"`
	OutputToken string `json:"output_token"`
	LimitKey    string `json:"limit_key"`
	ResultKey   string `json:"result_key"`
}

var (
	mu    sync.Mutex
	cache = map[string]*Model{}
)

// Load returns the parsed model of service (IVS or Realtime).
func Load(service string) (*Model, error) {
	mu.Lock()
	defer mu.Unlock()
	if m, ok := cache[service]; ok {
		return m, nil
	}
	raw, err := files.ReadFile("models/" + service + ".service-2.json")
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", service, err)
	}
	m := &Model{Name: service}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("parse model %q: %w", service, err)
	}
	raw, err = files.ReadFile("models/" + service + ".paginators-1.json")
	if err != nil {
		return nil, fmt.Errorf("load paginators %q: %w", service, err)
	}
	var p struct {
		Pagination map[string]Paginator `json:"pagination"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parse paginators %q: %w", service, err)
	}
	m.Paginators = p.Pagination
	m.applyErrata()
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("model %q: %w", service, err)
	}
	cache[service] = m
	return m, nil
}

// MustLoad is Load for code generators and tests, where a broken embedded
// model is a programming error.
func MustLoad(service string) *Model {
	m, err := Load(service)
	if err != nil {
		panic(err)
	}
	return m
}

// check verifies every shape reference resolves.
func (m *Model) check() error {
	ref := func(where, name string) error {
		if _, ok := m.Shapes[name]; !ok {
			return fmt.Errorf("%s refers to unknown shape %q", where, name)
		}
		return nil
	}
	for _, n := range m.ShapeNames() {
		s := m.Shapes[n]
		for mn, mem := range s.Members {
			if err := ref(n+"."+mn, mem.Shape); err != nil {
				return err
			}
		}
		for _, r := range []*ShapeRef{s.Member, s.Key, s.Value} {
			if r != nil {
				if err := ref(n, r.Shape); err != nil {
					return err
				}
			}
		}
	}
	for _, name := range m.OperationNames() {
		op := m.Operations[name]
		for _, r := range []*ShapeRef{op.Input, op.Output} {
			if r != nil {
				if err := ref(name, r.Shape); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// OperationNames returns the operation names, sorted.
func (m *Model) OperationNames() []string {
	out := make([]string, 0, len(m.Operations))
	for n := range m.Operations {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ShapeNames returns the shape names, sorted.
func (m *Model) ShapeNames() []string {
	out := make([]string, 0, len(m.Shapes))
	for n := range m.Shapes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// MemberNames returns a structure's member names in a stable order
// (sorted, as botocore does not keep declaration order in JSON maps).
func (s *Shape) MemberNames() []string {
	out := make([]string, 0, len(s.Members))
	for n := range s.Members {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// IsRequired reports whether member is required in s.
func (s *Shape) IsRequired(member string) bool {
	for _, r := range s.Required {
		if r == member {
			return true
		}
	}
	return false
}

// Kebab turns an operation or member name into the AWS CLI's spelling:
// CreateParticipantToken -> create-participant-token, channelArn -> channel-arn.
func Kebab(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			prevUpper := rs[i-1] >= 'A' && rs[i-1] <= 'Z'
			if prevLower || (prevUpper && nextLower) {
				b.WriteByte('-')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// applyErrata mends known defects of the published models, each with the
// reason. Keep this list short and explained.
func (m *Model) applyErrata() {
	// ResourceArn's pattern allows a single character as the resource type
	// ("[a-z-]/"), which would refuse every real ARN in the tagging calls.
	// The real service accepts channel/, stage/, ... (IVS-API.md §4).
	if s, ok := m.Shapes["ResourceArn"]; ok && strings.Contains(s.Pattern, ":[a-z-]/") {
		s.Pattern = strings.Replace(s.Pattern, ":[a-z-]/", ":[a-z-]+/", 1)
	}
}

// InputShapes returns the names of every shape reachable from an
// operation's input: the shapes requests carry and the server validates.
func (m *Model) InputShapes() map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		s := m.Shapes[n]
		for _, mem := range s.Members {
			walk(mem.Shape)
		}
		for _, r := range []*ShapeRef{s.Member, s.Key, s.Value} {
			if r != nil {
				walk(r.Shape)
			}
		}
	}
	for _, op := range m.Operations {
		if op.Input != nil {
			walk(op.Input.Shape)
		}
	}
	return seen
}

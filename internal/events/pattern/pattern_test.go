package pattern

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const stageEvent = `{"version":"0","id":"db65fc17","detail-type":"IVS Stage Update",
 "source":"aws.ivs","account":"630176884077","time":"2025-04-23T06:36:53Z","region":"us-east-1",
 "resources":["arn:aws:ivs:us-east-1:630176884077:stage/oWXSOfbOLMte"],
 "detail":{"session_id":"st-1CVugbu2cf2n8","event_name":"Participant Published",
           "event_time":"2025-04-23T06:36:53Z","user_id":"","participant_id":"03JY4smU3eXc",
           "count":5, "ratio": 0.5, "live": true, "gone": null, "tags":["a","b"],
           "nested":{"deep":{"x":"y"}}, "list":[{"k":"v1"},{"k":"v2"}]}}`

type matchCase struct {
	name    string
	pattern string
	want    bool
}

var matchCases = []matchCase{
	{"exact string", `{"source":["aws.ivs"]}`, true},
	{"exact string mismatch", `{"source":["aws.s3"]}`, false},
	{"array is OR", `{"source":["aws.s3","aws.ivs"]}`, true},
	{"fields are AND", `{"source":["aws.ivs"],"detail-type":["IVS Stream State Change"]}`, false},
	{"nested object", `{"detail":{"event_name":["Participant Published"]}}`, true},
	{"nested object mismatch", `{"detail":{"event_name":["Participant Unpublished"]}}`, false},
	{"deep nesting", `{"detail":{"nested":{"deep":{"x":["y"]}}}}`, true},
	{"missing field", `{"detail":{"nope":["x"]}}`, false},
	{"event array any element", `{"detail":{"tags":["b"]}}`, true},
	{"event array no element", `{"detail":{"tags":["c"]}}`, false},
	{"resources array", `{"resources":[{"prefix":"arn:aws:ivs:us-east-1:630176884077:stage/"}]}`, true},
	{"array of objects", `{"detail":{"list":{"k":["v2"]}}}`, true},
	{"array of objects mismatch", `{"detail":{"list":{"k":["v3"]}}}`, false},
	{"number exact", `{"detail":{"count":[5]}}`, true},
	{"number exact as float", `{"detail":{"count":[5.0]}}`, true},
	{"number vs string", `{"detail":{"count":["5"]}}`, false},
	{"bool exact", `{"detail":{"live":[true]}}`, true},
	{"bool mismatch", `{"detail":{"live":[false]}}`, false},
	{"null exact", `{"detail":{"gone":[null]}}`, true},
	{"null vs empty string", `{"detail":{"user_id":[null]}}`, false},
	{"empty string exact", `{"detail":{"user_id":[""]}}`, true},
	{"prefix", `{"detail":{"session_id":[{"prefix":"st-"}]}}`, true},
	{"prefix mismatch", `{"detail":{"session_id":[{"prefix":"ST-"}]}}`, false},
	{"prefix ignore case", `{"detail":{"session_id":[{"prefix":{"equals-ignore-case":"ST-1cv"}}]}}`, true},
	{"prefix on number", `{"detail":{"count":[{"prefix":"5"}]}}`, false},
	{"suffix", `{"resources":[{"suffix":"/oWXSOfbOLMte"}]}`, true},
	{"suffix mismatch", `{"resources":[{"suffix":"/other"}]}`, false},
	{"suffix ignore case", `{"resources":[{"suffix":{"equals-ignore-case":"/OWXSOFBOLMTE"}}]}`, true},
	{"equals ignore case", `{"detail-type":[{"equals-ignore-case":"ivs stage update"}]}`, true},
	{"equals ignore case mismatch", `{"detail-type":[{"equals-ignore-case":"ivs stage"}]}`, false},
	{"anything-but value", `{"detail":{"event_name":[{"anything-but":"Participant Unpublished"}]}}`, true},
	{"anything-but value hit", `{"detail":{"event_name":[{"anything-but":"Participant Published"}]}}`, false},
	{"anything-but list", `{"detail":{"event_name":[{"anything-but":["a","Participant Published"]}]}}`, false},
	{"anything-but number", `{"detail":{"count":[{"anything-but":[1,2]}]}}`, true},
	{"anything-but number hit", `{"detail":{"count":[{"anything-but":[5]}]}}`, false},
	{"anything-but missing field", `{"detail":{"nope":[{"anything-but":"x"}]}}`, false},
	{"anything-but prefix", `{"detail":{"session_id":[{"anything-but":{"prefix":"xx-"}}]}}`, true},
	{"anything-but prefix hit", `{"detail":{"session_id":[{"anything-but":{"prefix":"st-"}}]}}`, false},
	{"anything-but suffix hit", `{"detail":{"session_id":[{"anything-but":{"suffix":"n8"}}]}}`, false},
	{"anything-but ignore case hit", `{"detail":{"event_name":[{"anything-but":{"equals-ignore-case":["participant published"]}}]}}`, false},
	{"anything-but wildcard", `{"detail":{"event_name":[{"anything-but":{"wildcard":"*Unpub*"}}]}}`, true},
	{"exists true", `{"detail":{"participant_id":[{"exists":true}]}}`, true},
	{"exists true on null", `{"detail":{"gone":[{"exists":true}]}}`, true},
	{"exists true missing", `{"detail":{"nope":[{"exists":true}]}}`, false},
	{"exists false missing", `{"detail":{"nope":[{"exists":false}]}}`, true},
	{"exists false present", `{"detail":{"participant_id":[{"exists":false}]}}`, false},
	{"exists false under missing object", `{"missing":{"x":[{"exists":false}]}}`, true},
	{"exists false under scalar", `{"source":{"x":[{"exists":false}]}}`, true},
	{"numeric gt", `{"detail":{"count":[{"numeric":[">",4]}]}}`, true},
	{"numeric gt edge", `{"detail":{"count":[{"numeric":[">",5]}]}}`, false},
	{"numeric gte edge", `{"detail":{"count":[{"numeric":[">=",5]}]}}`, true},
	{"numeric lt", `{"detail":{"count":[{"numeric":["<",5]}]}}`, false},
	{"numeric lte", `{"detail":{"count":[{"numeric":["<=",5]}]}}`, true},
	{"numeric eq", `{"detail":{"ratio":[{"numeric":["=",0.5]}]}}`, true},
	{"numeric eq mismatch", `{"detail":{"ratio":[{"numeric":["=",0.4]}]}}`, false},
	{"numeric range", `{"detail":{"count":[{"numeric":[">",0,"<=",5]}]}}`, true},
	{"numeric range out", `{"detail":{"count":[{"numeric":[">",0,"<",5]}]}}`, false},
	{"numeric on string", `{"detail":{"session_id":[{"numeric":[">",0]}]}}`, false},
	{"wildcard", `{"resources":[{"wildcard":"arn:aws:ivs:*:stage/*"}]}`, true},
	{"wildcard mismatch", `{"resources":[{"wildcard":"arn:aws:ivs:*:channel/*"}]}`, false},
	{"wildcard whole", `{"detail":{"event_name":[{"wildcard":"Participant Published"}]}}`, true},
	{"wildcard escaped star", `{"detail":{"event_name":[{"wildcard":"Participant\\*"}]}}`, false},
	{"mixed conditions OR", `{"detail":{"event_name":["nope",{"prefix":"Participant"}]}}`, true},
	{"$or first", `{"$or":[{"source":["aws.ivs"]},{"detail-type":["x"]}]}`, true},
	{"$or second", `{"$or":[{"source":["x"]},{"detail-type":["IVS Stage Update"]}]}`, true},
	{"$or none", `{"$or":[{"source":["x"]},{"detail-type":["y"]}]}`, false},
	{"$or nested with field", `{"source":["aws.ivs"],"detail":{"$or":[{"count":[{"numeric":[">",10]}]},{"live":[true]}]}}`, true},
	{"seed rule", `{"source":["aws.ivs"],"detail-type":["IVS Stage Update"],"detail":{"event_name":["Participant Published"]}}`, true},
}

func TestMatch(t *testing.T) {
	t.Parallel()
	var ev any
	if err := json.Unmarshal([]byte(stageEvent), &ev); err != nil {
		t.Fatal(err)
	}
	for _, tc := range matchCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile([]byte(tc.pattern))
			if err != nil {
				t.Fatalf("compile %s: %v", tc.pattern, err)
			}
			if got := p.Match(ev); got != tc.want {
				t.Fatalf("Match(%s) = %v, want %v", tc.pattern, got, tc.want)
			}
			if got := p.MatchJSON([]byte(stageEvent)); got != tc.want {
				t.Fatalf("MatchJSON(%s) = %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestMatchNonObjectEvent(t *testing.T) {
	t.Parallel()
	p := MustCompile(`{"a":[{"exists":false}]}`)
	if !p.MatchJSON([]byte(`[1,2]`)) {
		t.Fatal("exists:false should match an event that is not an object")
	}
	if p.MatchJSON([]byte(`{"a":`)) {
		t.Fatal("invalid JSON must not match")
	}
}

func TestWildMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true},
		{"*", "abc", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbb", false},
		{"*b*", "abc", true},
		{"*b*", "acc", false},
		{"a*b*c", "aXbYbZc", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\\b`, `a\b`, true},
		{"abc", "abcd", false},
		{"", "", true},
	} {
		if got := wildMatch(tc.pat, tc.s); got != tc.want {
			t.Errorf("wildMatch(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pattern, want string
	}{
		{"not json", `{`, "invalid event pattern"},
		{"not an object", `["a"]`, "must be a JSON object"},
		{"empty", `{}`, "at least one field"},
		{"trailing", `{"a":["b"]} x`, "trailing data"},
		{"scalar leaf", `{"source":"aws.ivs"}`, "source: must be an array"},
		{"empty array", `{"source":[]}`, "source: an empty array"},
		{"empty nested object", `{"detail":{}}`, "detail: an object must name"},
		{"unknown operator", `{"a":[{"regex":"x"}]}`, `unknown operator "regex"`},
		{"two operators", `{"a":[{"prefix":"x","suffix":"y"}]}`, "exactly one operator"},
		{"prefix not string", `{"a":[{"prefix":1}]}`, "prefix needs a string"},
		{"prefix bad nesting", `{"a":[{"prefix":{"wildcard":"x"}}]}`, "only {\"equals-ignore-case\""},
		{"exists not bool", `{"a":[{"exists":"yes"}]}`, "exists needs true or false"},
		{"numeric odd", `{"a":[{"numeric":[">"]}]}`, "needs [op, number]"},
		{"numeric bad op", `{"a":[{"numeric":["!=",1]}]}`, `unknown comparison "!="`},
		{"numeric not number", `{"a":[{"numeric":[">","1"]}]}`, "not a finite number"},
		{"numeric two lower", `{"a":[{"numeric":[">",1,">=",2]}]}`, "two lower bounds"},
		{"numeric inverted", `{"a":[{"numeric":[">",5,"<",1]}]}`, "lower bound 5 is above"},
		{"numeric eq with range", `{"a":[{"numeric":["=",1,"<",2]}]}`, "cannot be combined"},
		{"anything-but empty", `{"a":[{"anything-but":[]}]}`, "at least one value"},
		{"anything-but object in list", `{"a":[{"anything-but":[{"prefix":"x"}]}]}`, "values only"},
		{"anything-but bad op", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "anything-but takes"},
		{"wildcard double star", `{"a":[{"wildcard":"a**b"}]}`, "consecutive"},
		{"wildcard bad escape", `{"a":[{"wildcard":"a\\b"}]}`, "must escape"},
		{"wildcard too many stars", `{"a":[{"wildcard":"` + strings.Repeat("*a", MaxWildcardStars+1) + `"}]}`, "more than 16"},
		{"cidr", `{"a":[{"cidr":"10.0.0.0/8"}]}`, "cidr operator is not supported"},
		{"or too short", `{"$or":[{"a":["b"]}]}`, "at least two patterns"},
		{"or not object", `{"$or":[{"a":["b"]}, 1]}`, "must be an object"},
		{"value is object in list", `{"a":[["x"]]}`, "is not a value"},
		{"too big", `{"a":["` + strings.Repeat("x", MaxPatternBytes) + `"]}`, "byte limit"},
		{"too deep", strings.Repeat(`{"a":`, MaxDepth+1) + `["x"]` + strings.Repeat(`}`, MaxDepth+1), "nesting deeper"},
		{"too many conditions", `{"a":[` + strings.Repeat(`"x",`, MaxConditions) + `"x"]}`, "more than 1024 conditions"},
		{"long operand", `{"a":["` + strings.Repeat("x", MaxOperandBytes+1) + `"]}`, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]byte(tc.pattern))
			if err == nil {
				t.Fatalf("Compile(%.80s) succeeded, want error containing %q", tc.pattern, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func FuzzPattern(f *testing.F) {
	for _, tc := range matchCases {
		f.Add([]byte(tc.pattern), []byte(stageEvent))
	}
	f.Add([]byte(`{"a":[{"wildcard":"*a*b*c"}]}`), []byte(`{"a":"xaxbxcx"}`))
	f.Fuzz(func(t *testing.T, pat, event []byte) {
		p, err := Compile(pat)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		a := p.MatchJSON(event)
		if b := p.MatchJSON(event); a != b {
			t.Fatal("match is not deterministic")
		}
	})
}

func BenchmarkMatchSeedRule(b *testing.B) {
	p := MustCompile(`{"source":["aws.ivs"],"detail-type":["IVS Stage Update"],"detail":{"event_name":["Participant Published"],"session_id":[{"prefix":"st-"}]}}`)
	var ev any
	_ = json.Unmarshal([]byte(stageEvent), &ev)
	for b.Loop() {
		if !p.Match(ev) {
			b.Fatal("no match")
		}
	}
}

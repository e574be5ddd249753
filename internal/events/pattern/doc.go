// Package pattern compiles and matches EventBridge event patterns.
//
// A pattern is a JSON object that mirrors the shape of the events it
// selects. Every leaf is an array of conditions; a field matches when any
// condition in its array matches (arrays are OR), and an event matches when
// every field of the pattern matches (fields are AND). When the event's
// value is itself an array, the field matches when any element matches.
//
// Supported conditions:
//
//	"text", 12, true, null                  exact value (numbers compare numerically)
//	{"prefix": "ab"}                        string prefix
//	{"prefix": {"equals-ignore-case": "ab"}}
//	{"suffix": "yz"}                        string suffix
//	{"suffix": {"equals-ignore-case": "yz"}}
//	{"equals-ignore-case": "AbC"}           Unicode case folding
//	{"wildcard": "arn:*:stage/*"}           '*' matches any run; "\*" is a literal star
//	{"anything-but": v | [v...] | {"prefix": p} | {"suffix": s} | {"equals-ignore-case": v | [v...]} | {"wildcard": w | [w...]}}
//	{"numeric": [">", 0, "<=", 5]}          one lower and/or one upper bound, or ["=", n]
//	{"exists": true|false}                  field present (any value, even null) or absent
//	"$or": [pattern, pattern...]            at any object level, any sub-pattern matches
//
// anything-but, prefix, suffix, wildcard, equals-ignore-case and numeric
// never match an absent field. Compile rejects malformed patterns with an
// error naming the field path; the limits on input size are named
// constants below. Compiled patterns are immutable and safe for concurrent
// use. Matching allocates nothing beyond the case folding of
// equals-ignore-case operands and values.
package pattern

package events

import (
	"errors"
	"strings"
)

// SplitCommand splits a command line into argv the way a POSIX shell
// splits words, without expansions: whitespace separates words, '...'
// quotes literally, "..." quotes with \" \\ \$ \` escapes, and a
// backslash outside quotes escapes the next character. Its input is bounded
// by MaxCommandBytes.
func SplitCommand(s string) ([]string, error) {
	if len(s) > MaxCommandBytes {
		return nil, errors.New("command line too long")
	}
	var args []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			if i+1 >= len(s) {
				return nil, errors.New("command line ends with a backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("empty command")
	}
	if len(args) > MaxCommandArgs {
		return nil, errors.New("too many arguments")
	}
	return args, nil
}

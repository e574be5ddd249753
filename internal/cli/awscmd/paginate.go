package awscmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// truncateKey is botocore's name for "items of this page already shown".
const truncateKey = "boto_truncate_amount"

// encodeToken builds a NextToken the AWS CLI way: base64 of a JSON object
// holding the service token (null before the first page) and, when output
// stopped inside a page, how many of that page's items were consumed.
func encodeToken(inputToken, token string, consumed int) string {
	obj := map[string]any{inputToken: nil}
	if token != "" {
		obj[inputToken] = token
	}
	if consumed > 0 {
		obj[truncateKey] = consumed
	}
	data, _ := json.Marshal(obj) // a map of a string and an int cannot fail
	return base64.StdEncoding.EncodeToString(data)
}

// decodeToken reads a --starting-token: the AWS CLI form produced by
// encodeToken, botocore's legacy "token___N" form, or a raw service token.
func decodeToken(inputToken, s string) (token string, skip int, err error) {
	if data, err := base64.StdEncoding.DecodeString(s); err == nil {
		var obj map[string]any
		if json.Unmarshal(data, &obj) == nil && obj != nil {
			if v, ok := obj[inputToken]; ok && v != nil {
				str, ok := v.(string)
				if !ok {
					return "", 0, usageError{"invalid --starting-token"}
				}
				token = str
			}
			if v, ok := obj[truncateKey]; ok {
				f, ok := v.(float64)
				if !ok || f < 0 || f != float64(int(f)) {
					return "", 0, usageError{"invalid --starting-token"}
				}
				skip = int(f)
			}
			return token, skip, nil
		}
	}
	if i := strings.LastIndex(s, "___"); i >= 0 {
		if n, err := strconv.Atoi(s[i+3:]); err == nil && n >= 0 {
			return s[:i], n, nil
		}
	}
	return s, 0, nil
}

// paginate follows the paginator's output token and merges the result
// lists like the AWS CLI: other members come from the first page, the
// output token is dropped, and NextToken is added only when --max-items
// cut the listing short.
func paginate(ctx context.Context, c *caller, spec *opSpec, req *opRequest) (map[string]any, error) {
	p := spec.pager
	token, skip, err := decodeToken(p.InputToken, req.startingToken)
	if err != nil {
		return nil, err
	}
	var (
		result    map[string]any
		items     = []any{}
		nextToken string
	)
	seen := map[string]bool{}
pages:
	for page := 0; ; page++ {
		in := maps.Clone(req.input)
		if token != "" {
			in[p.InputToken] = token
		}
		if req.pageSize > 0 {
			in[p.LimitKey] = int64(req.pageSize)
		}
		out, err := c.call(ctx, spec, in)
		if err != nil {
			return nil, err
		}
		if result == nil {
			result = maps.Clone(out)
		}
		pageItems, _ := out[p.ResultKey].([]any)
		next, _ := out[p.OutputToken].(string)
		start := 0
		if page == 0 {
			start = min(skip, len(pageItems))
		}
		for i := start; i < len(pageItems); i++ {
			if req.maxItems > 0 && len(items) == req.maxItems {
				nextToken = encodeToken(p.InputToken, token, i)
				break pages
			}
			items = append(items, pageItems[i])
		}
		if next == "" {
			break
		}
		if req.maxItems > 0 && len(items) == req.maxItems {
			nextToken = encodeToken(p.InputToken, next, 0)
			break
		}
		if seen[next] {
			return nil, fmt.Errorf("the same next token was received twice: %s", next)
		}
		seen[next] = true
		token = next
	}
	delete(result, p.OutputToken)
	result[p.ResultKey] = items
	if nextToken != "" {
		result["NextToken"] = nextToken
	}
	return result, nil
}

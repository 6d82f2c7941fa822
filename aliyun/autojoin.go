package aliyun

import (
	"fmt"
	"slices"
	"strings"
)

// autoJoinKeys are the keys go-discover's aliyun provider reads, plus
// addr_type, which joinhintd adds.
var autoJoinKeys = []string{
	"provider", "region", "tag_key", "tag_value",
	"access_key_id", "access_key_secret", "addr_type",
}

// ParseAutoJoin parses a go-discover auto_join string such as
//
//	provider=aliyun region=cn-hangzhou tag_key=vault tag_value="cluster 1"
//
// Pairs are separated by spaces; a key or value holding spaces, backslashes,
// '=' or double quotes is written in double quotes, with a backslash escaping
// the next character. A key given twice, a key go-discover's aliyun provider
// does not know, and a provider other than aliyun are refused.
func ParseAutoJoin(s string) (map[string]string, error) {
	pairs, err := splitAutoJoin(s)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(pairs))
	var unknown []string
	for _, p := range pairs {
		if _, dup := m[p[0]]; dup {
			return nil, fmt.Errorf("auto_join key %q is given twice", p[0])
		}
		if !slices.Contains(autoJoinKeys, p[0]) {
			unknown = append(unknown, p[0])
		}
		m[p[0]] = p[1]
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("auto_join has unknown key(s) %s: want %s", strings.Join(quoteAll(unknown), ", "), strings.Join(autoJoinKeys, ", "))
	}
	if p, ok := m["provider"]; ok && p != "aliyun" {
		return nil, fmt.Errorf("auto_join provider %q is not supported: joinhintd speaks only provider=aliyun", p)
	}
	return m, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// splitAutoJoin tokenizes s into key/value pairs. It never echoes a value in
// an error: values may be secrets.
func splitAutoJoin(s string) ([][2]string, error) {
	var pairs [][2]string
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return pairs, nil
		}
		start := i
		key, n, err := scanWord(s[i:], true)
		if err != nil {
			return nil, fmt.Errorf("auto_join at offset %d: %w", start, err)
		}
		i += n
		if key == "" {
			return nil, fmt.Errorf("auto_join at offset %d: empty key", start)
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("auto_join key %q has no value: want key=value", key)
		}
		i++
		val, n, err := scanWord(s[i:], false)
		if err != nil {
			return nil, fmt.Errorf("auto_join value of %q: %w", key, err)
		}
		i += n
		if i < len(s) && !isSpace(s[i]) {
			return nil, fmt.Errorf("auto_join value of %q: unexpected character after the value; quote values that hold spaces, quotes or '='", key)
		}
		pairs = append(pairs, [2]string{key, val})
	}
}

// scanWord reads one bare or double-quoted word from the start of s and
// returns it with the number of bytes consumed. A bare key ends at '=' or a
// space; a bare value at a space.
func scanWord(s string, isKey bool) (string, int, error) {
	if s != "" && s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 == len(s) {
					return "", 0, fmt.Errorf("backslash at the end of the string")
				}
				i++
				b.WriteByte(s[i])
			case '"':
				return b.String(), i + 1, nil
			default:
				b.WriteByte(c)
			}
		}
		return "", 0, fmt.Errorf("unterminated double quote")
	}
	i := 0
	for i < len(s) && !isSpace(s[i]) && !(isKey && s[i] == '=') {
		if s[i] == '"' || s[i] == '\\' {
			return "", 0, fmt.Errorf("quote or backslash inside an unquoted word; put the whole word in double quotes")
		}
		i++
	}
	return s[:i], i, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// maxAutoJoinFile bounds what ReadAutoJoinFile reads.
const maxAutoJoinFile = 64 << 10

// ReadAutoJoinFile reads an auto_join string from path (--auto-join-file):
// the whole file, line breaks read as spaces (a quoted value keeps its own).
// Its errors name the file, never its content, which may hold keys.
func ReadAutoJoinFile(path string) (string, error) {
	s, err := readSmallFile(path, maxAutoJoinFile)
	if err != nil {
		return "", fmt.Errorf("invalid --auto-join-file: %w", err)
	}
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s), nil
}

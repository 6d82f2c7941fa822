package aliyun

import (
	"maps"
	"strings"
	"testing"
)

func TestParseAutoJoin(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"seed example", `provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=AKID access_key_secret=SECRET addr_type=private_v4`,
			map[string]string{"provider": "aliyun", "region": "cn-hangzhou", "tag_key": "vault", "tag_value": "cluster1", "access_key_id": "AKID", "access_key_secret": "SECRET", "addr_type": "private_v4"}},
		{"empty", "", map[string]string{}},
		{"extra spaces and tabs", "  provider=aliyun\t region=cn-beijing  ", map[string]string{"provider": "aliyun", "region": "cn-beijing"}},
		{"quoted value with space", `tag_key=vault tag_value="cluster 1"`, map[string]string{"tag_key": "vault", "tag_value": "cluster 1"}},
		{"escaped quote and backslash", `tag_value="a \"b\" c\\d"`, map[string]string{"tag_value": `a "b" c\d`}},
		{"quoted key", `"tag_key"=vault`, map[string]string{"tag_key": "vault"}},
		{"equals inside a value", `access_key_secret=abc=def`, map[string]string{"access_key_secret": "abc=def"}},
		{"empty value", `tag_value=`, map[string]string{"tag_value": ""}},
		{"empty quoted value", `tag_value=""`, map[string]string{"tag_value": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAutoJoin(tt.in)
			if err != nil {
				t.Fatalf("ParseAutoJoin(%q): %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseAutoJoin(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseAutoJoinErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"duplicate key", "region=a region=b", `key "region" is given twice`},
		{"unknown key named", "provider=aliyun tag=x secret_key=y", `unknown key(s) "tag", "secret_key"`},
		{"other provider", "provider=aws tag_key=a", `provider "aws" is not supported`},
		{"no value", "provider", `key "provider" has no value`},
		{"unterminated quote", `tag_value="abc`, "unterminated double quote"},
		{"trailing backslash", `tag_value="abc\`, "backslash at the end"},
		{"junk after quote", `tag_value="a"b`, "unexpected character after the value"},
		{"bare quote", `tag_value=a"b`, "quote or backslash inside an unquoted word"},
		{"empty key", `=x`, "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseAutoJoin(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseAutoJoin(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

// A secret must never come back in a parse error, whatever is wrong.
func TestParseAutoJoinErrorsDoNotEchoValues(t *testing.T) {
	const secret = "s3cr3tVALUE"
	for _, in := range []string{
		`access_key_secret="` + secret,
		`access_key_secret=` + secret + `"x`,
		`access_key_secret="` + secret + `"junk`,
		`access_key_secret=` + secret + ` access_key_secret=` + secret,
	} {
		_, err := ParseAutoJoin(in)
		if err == nil {
			t.Fatalf("ParseAutoJoin(%q) accepted", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q echoes the secret", err)
		}
	}
}

func FuzzParseAutoJoin(f *testing.F) {
	for _, s := range []string{
		`provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 addr_type=private_v4`,
		`tag_value="a \"b\" c\\d"`, `"tag_key"=x`, `a=`, `=`, `"`, `x="\`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseAutoJoin(s)
		if err != nil {
			return
		}
		// Whatever parses must parse the same after quoting every value.
		var b strings.Builder
		for k, v := range m {
			b.WriteString(quoteAutoJoin(k) + "=" + quoteAutoJoin(v) + " ")
		}
		again, err := ParseAutoJoin(b.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b.String(), err)
		}
		if !maps.Equal(m, again) {
			t.Fatalf("round trip %q: %v != %v", s, m, again)
		}
	})
}

// quoteAutoJoin quotes s in auto_join syntax.
func quoteAutoJoin(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

package aliyun

import (
	"slices"
	"strings"
	"testing"
)

func validConfig() Config {
	return Config{
		Region:           "cn-hangzhou",
		Tags:             []Tag{{Key: "vault", Value: "cluster1"}},
		AddrType:         AddrPrivateV4,
		EndpointScheme:   "https",
		Network:          "public",
		MetadataEndpoint: DefaultMetadataEndpoint,
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"region may come later", func(c *Config) { c.Region = "" }, ""},
		{"bad region", func(c *Config) { c.Region = "Hangzhou 1" }, "invalid --region"},
		{"no tags", func(c *Config) { c.Tags = nil }, "no tag filter"},
		{"too many tags", func(c *Config) {
			for i := 0; i < 21; i++ {
				c.Tags = append(c.Tags, Tag{Key: "k"})
			}
		}, "too many --tag"},
		{"empty tag key", func(c *Config) { c.Tags = []Tag{{Key: " ", Value: "x"}} }, "invalid --tag"},
		{"addr type", func(c *Config) { c.AddrType = "private" }, "invalid --addr-type \"private\": want private_v4, public_v4 or ipv6"},
		{"scheme", func(c *Config) { c.EndpointScheme = "ftp" }, "invalid --endpoint-scheme"},
		{"network", func(c *Config) { c.Network = "internal" }, "invalid --network"},
		{"endpoint with scheme", func(c *Config) { c.Endpoint = "https://ecs.example" }, "invalid --endpoint"},
		{"endpoint empty port", func(c *Config) { c.Endpoint = "127.0.0.1:" }, "empty port"},
		{"endpoint host:port", func(c *Config) { c.Endpoint = "127.0.0.1:8080" }, ""},
		{"http to the cloud refused", func(c *Config) { c.EndpointScheme = "http" }, "--endpoint-scheme http would send signed requests and STS tokens in clear text to ecs.cn-hangzhou.aliyuncs.com"},
		{"http to a remote endpoint refused", func(c *Config) { c.EndpointScheme, c.Endpoint = "http", "10.0.0.5:8080" }, "give --insecure-endpoint"},
		{"http to a remote endpoint allowed when insecure", func(c *Config) { c.EndpointScheme, c.Endpoint, c.InsecureEndpoint = "http", "10.0.0.5:8080", true }, ""},
		{"http to loopback", func(c *Config) { c.EndpointScheme, c.Endpoint = "http", "127.0.0.1:8080" }, ""},
		{"http to localhost", func(c *Config) { c.EndpointScheme, c.Endpoint = "http", "localhost:8080" }, ""},
		{"http to ipv6 loopback", func(c *Config) { c.EndpointScheme, c.Endpoint = "http", "[::1]:8080" }, ""},
		{"metadata not a URL", func(c *Config) { c.MetadataEndpoint = "100.100.100.200" }, "invalid --metadata-endpoint"},
		{"metadata bad scheme", func(c *Config) { c.MetadataEndpoint = "ftp://x" }, "invalid --metadata-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParseTag(t *testing.T) {
	for in, want := range map[string]Tag{
		"vault=cluster1": {"vault", "cluster1"},
		"vault=":         {"vault", ""},
		"vault":          {"vault", ""},
		"k=a=b":          {"k", "a=b"},
	} {
		got, err := ParseTag(in)
		if err != nil || got != want {
			t.Errorf("ParseTag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "=x", " =x"} {
		if _, err := ParseTag(in); err == nil {
			t.Errorf("ParseTag(%q) accepted", in)
		}
	}
}

func TestApplyAutoJoin(t *testing.T) {
	aj, err := ParseAutoJoin("provider=aliyun region=cn-beijing tag_key=vault tag_value=c1 addr_type=public_v4 access_key_id=AK access_key_secret=SK")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fills what flags left out", func(t *testing.T) {
		c := Config{AddrType: AddrPrivateV4}
		if err := c.ApplyAutoJoin(aj, func(string) bool { return false }); err != nil {
			t.Fatal(err)
		}
		if c.Region != "cn-beijing" || c.AddrType != AddrPublicV4 || len(c.Tags) != 1 || c.Tags[0] != (Tag{"vault", "c1"}) || c.AccessKeyID != "AK" || c.AccessKeySecret != "SK" {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("explicit flags win", func(t *testing.T) {
		c := Config{Region: "cn-shanghai", AddrType: AddrIPv6, Tags: []Tag{{"role", "vault"}}}
		if err := c.ApplyAutoJoin(aj, func(string) bool { return true }); err != nil {
			t.Fatal(err)
		}
		if c.Region != "cn-shanghai" || c.AddrType != AddrIPv6 || c.Tags[0] != (Tag{"role", "vault"}) {
			t.Fatalf("got %+v", c)
		}
	})
	for _, in := range []string{"tag_value=x", "access_key_id=AK", "access_key_secret=SK"} {
		t.Run("refuses "+in, func(t *testing.T) {
			aj, err := ParseAutoJoin(in)
			if err != nil {
				t.Fatal(err)
			}
			c := Config{}
			if err := c.ApplyAutoJoin(aj, func(string) bool { return false }); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestEndpointHost(t *testing.T) {
	c := validConfig()
	if got := c.EndpointHost(); got != "ecs.cn-hangzhou.aliyuncs.com" {
		t.Errorf("public: %s", got)
	}
	c.Network = "vpc"
	if got := c.EndpointHost(); got != "ecs-vpc.cn-hangzhou.aliyuncs.com" {
		t.Errorf("vpc: %s", got)
	}
	c.Endpoint = "127.0.0.1:9999"
	if got := c.EndpointHost(); got != "127.0.0.1:9999" {
		t.Errorf("override: %s", got)
	}
}

func TestRedactedHidesSecret(t *testing.T) {
	c := validConfig()
	c.AccessKeyID, c.AccessKeySecret = "AKID", "topsecret"
	r := c.Redacted()
	if r["access_key_secret"] != "REDACTED" {
		t.Errorf("access_key_secret = %q", r["access_key_secret"])
	}
	for k, v := range r {
		if strings.Contains(v, "topsecret") {
			t.Errorf("%s holds the secret", k)
		}
	}
}

// TestCacheKey: the same settings give the same key whatever the tag order;
// any setting that selects or shapes the peers gives another, also when
// values hold the separators.
func TestCacheKey(t *testing.T) {
	base := Config{Region: "cn-hangzhou", Tags: []Tag{{"vault", "cluster1"}, {"env", "prod"}}, AddrType: AddrPrivateV4}
	swapped := base
	swapped.Tags = []Tag{{"env", "prod"}, {"vault", "cluster1"}}
	if base.CacheKey() != swapped.CacheKey() {
		t.Errorf("tag order changed the key: %q vs %q", base.CacheKey().Filter, swapped.CacheKey().Filter)
	}
	seen := map[string]string{"base": base.CacheKey().Region + "|" + base.CacheKey().Filter}
	for name, mod := range map[string]func(*Config){
		"region":     func(c *Config) { c.Region = "cn-beijing" },
		"tag value":  func(c *Config) { c.Tags = []Tag{{"vault", "cluster2"}, {"env", "prod"}} },
		"tag gone":   func(c *Config) { c.Tags = []Tag{{"vault", "cluster1"}} },
		"any value":  func(c *Config) { c.Tags = []Tag{{"vault", ""}, {"env", "prod"}} },
		"separators": func(c *Config) { c.Tags = []Tag{{"vault", "cluster1\",\"env\"=\"prod"}} },
		"vpc":        func(c *Config) { c.VpcID = "vpc-1" },
		"zone":       func(c *Config) { c.ZoneID = "cn-hangzhou-h" },
		"addr type":  func(c *Config) { c.AddrType = AddrIPv6 },
	} {
		c := base
		c.Tags = slices.Clone(base.Tags)
		mod(&c)
		k := c.CacheKey().Region + "|" + c.CacheKey().Filter
		for other, ok := range seen {
			if ok == k {
				t.Errorf("%s gives the same key as %s: %q", name, other, k)
			}
		}
		seen[name] = k
	}
}

package aliyun

import (
	"cmp"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joinhintd/joinhintd/daemon"
)

// AddrType selects which address of an instance becomes a peer's address.
type AddrType string

// The address types of --addr-type.
const (
	AddrPrivateV4 AddrType = "private_v4"
	AddrPublicV4  AddrType = "public_v4"
	AddrIPv6      AddrType = "ipv6"
)

// Tag is one tag filter; an empty Value matches any value of Key.
type Tag struct {
	Key, Value string
}

// String renders the tag as --tag takes it.
func (t Tag) String() string { return t.Key + "=" + t.Value }

// ParseTag parses a --tag value: KEY=VALUE, KEY= or KEY (any value).
func ParseTag(s string) (Tag, error) {
	k, v, _ := strings.Cut(s, "=")
	if strings.TrimSpace(k) == "" {
		return Tag{}, fmt.Errorf("invalid --tag %q: want KEY=VALUE, KEY= or KEY with a non-empty KEY", s)
	}
	return Tag{Key: k, Value: v}, nil
}

// Config is everything the aliyun package needs to discover peers. It holds
// secrets: log it only through Redacted.
type Config struct {
	Region   string
	Tags     []Tag
	VpcID    string
	ZoneID   string
	AddrType AddrType

	Endpoint         string // HOST[:PORT]; empty: the regional endpoint
	EndpointScheme   string // "https" (default) or "http"
	InsecureEndpoint bool   // allow http to a non-loopback endpoint
	Network          string // "public" (default) or "vpc"
	MetadataEndpoint string // base URL of the instance metadata service

	AccessKeyID     string // from auto_join
	AccessKeySecret string

	// CredentialSource is "auto" ("" too) or one of CredentialSources,
	// forcing that one (--credential-source).
	CredentialSource string
	RAMRole          string // --ram-role; "": the role attached to the instance
	MetadataHardened bool   // --metadata-hardened: the session token is required
	STSEndpoint      string // --sts-endpoint HOST[:PORT]; "": by --network
	STSScheme        string // --sts-scheme: "https" (default) or "http"
	// Getenv reads the credential variables (ALIBABA_CLOUD_*, ALICLOUD_*);
	// nil: os.Getenv. The demo passes one that sees nothing, so no
	// variable can send it to the cloud.
	Getenv func(string) string

	ConnectTimeout time.Duration // per API call; 0: 5s
	ReadTimeout    time.Duration // per API call; 0: 10s
}

// DefaultMetadataEndpoint is the ECS instance metadata service.
const DefaultMetadataEndpoint = "http://100.100.100.200"

// maxTags is the API's limit on Tag.N.
const maxTags = 20

var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)+$`)

// ApplyAutoJoin fills the fields of c that the caller left empty (set is
// false for them) from the parsed auto_join keys. Explicit flags win.
func (c *Config) ApplyAutoJoin(aj map[string]string, set func(flag string) bool) error {
	if v, ok := aj["region"]; ok && !set("region") {
		c.Region = v
	}
	if v, ok := aj["addr_type"]; ok && !set("addr-type") {
		c.AddrType = AddrType(v)
	}
	tk, hasKey := aj["tag_key"]
	tv, hasVal := aj["tag_value"]
	if hasVal && !hasKey {
		return fmt.Errorf("auto_join has tag_value but no tag_key")
	}
	if hasKey && !set("tag") {
		c.Tags = []Tag{{Key: tk, Value: tv}}
	}
	id, hasID := aj["access_key_id"]
	secret, hasSecret := aj["access_key_secret"]
	if hasID != hasSecret {
		return fmt.Errorf("auto_join needs both access_key_id and access_key_secret, or neither")
	}
	c.AccessKeyID, c.AccessKeySecret = id, secret
	return nil
}

// Validate checks c before anything starts and returns a one-line error that
// names the flag to fix. Region may still be empty: it can come from the
// metadata service (see Resolve).
func (c *Config) Validate() error {
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		return fmt.Errorf("invalid --region %q: want a region id such as cn-hangzhou", c.Region)
	}
	if len(c.Tags) == 0 {
		return fmt.Errorf("no tag filter: give --tag KEY=VALUE (or tag_key/tag_value in --auto-join); joinhintd never lists every instance of a region")
	}
	if len(c.Tags) > maxTags {
		return fmt.Errorf("too many --tag filters (%d): the ECS API takes at most %d", len(c.Tags), maxTags)
	}
	for _, t := range c.Tags {
		if strings.TrimSpace(t.Key) == "" {
			return fmt.Errorf("invalid --tag %q: the key is empty", t.String())
		}
	}
	switch c.AddrType {
	case AddrPrivateV4, AddrPublicV4, AddrIPv6:
	default:
		return fmt.Errorf("invalid --addr-type %q: want private_v4, public_v4 or ipv6", c.AddrType)
	}
	switch c.EndpointScheme {
	case "https", "http":
	default:
		return fmt.Errorf("invalid --endpoint-scheme %q: want https or http", c.EndpointScheme)
	}
	switch c.Network {
	case "public", "vpc":
	default:
		return fmt.Errorf("invalid --network %q: want public or vpc", c.Network)
	}
	if c.Endpoint != "" {
		if strings.Contains(c.Endpoint, "/") {
			return fmt.Errorf("invalid --endpoint %q: want HOST[:PORT] without scheme or path (the scheme is --endpoint-scheme)", c.Endpoint)
		}
		if _, port, err := net.SplitHostPort(c.Endpoint); err == nil && port == "" {
			return fmt.Errorf("invalid --endpoint %q: empty port", c.Endpoint)
		}
	}
	if c.EndpointScheme == "http" && !c.InsecureEndpoint && !isLoopbackHost(c.Endpoint) {
		return fmt.Errorf("--endpoint-scheme http would send signed requests and STS tokens in clear text to %s: use https, or give --insecure-endpoint if you really mean it", c.EndpointHost())
	}
	u, err := url.Parse(c.MetadataEndpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid --metadata-endpoint %q: want a URL such as %s", c.MetadataEndpoint, DefaultMetadataEndpoint)
	}
	if c.CredentialSource != "" && !slices.Contains(CredentialSources(), c.CredentialSource) {
		return fmt.Errorf("invalid --credential-source %q: want %s", c.CredentialSource, strings.Join(CredentialSources(), ", "))
	}
	switch c.STSScheme {
	case "", "https", "http":
	default:
		return fmt.Errorf("invalid --sts-scheme %q: want https or http", c.STSScheme)
	}
	if c.RAMRole != "" && !roleNameRE.MatchString(c.RAMRole) {
		return fmt.Errorf("invalid --ram-role %q: want a RAM role name (letters, digits, '.', '-')", c.RAMRole)
	}
	if c.ConnectTimeout < 0 || c.ReadTimeout < 0 {
		return fmt.Errorf("API timeouts must not be negative")
	}
	return nil
}

// isLoopbackHost reports whether hostport ("HOST" or "HOST:PORT") names this
// machine: localhost or a loopback IP. An empty endpoint is the cloud's.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// MetadataClient returns a client of the metadata service c names, with
// the session token required when c.MetadataHardened.
func (c *Config) MetadataClient() *Metadata {
	return NewMetadata(c.MetadataEndpoint, WithMetadataHardened(c.MetadataHardened))
}

// CacheKey identifies the peer set c selects, for the cache file: the region
// and every setting that selects or shapes the peers, canonical (tags sorted,
// values quoted) so that the same settings always give the same key.
func (c *Config) CacheKey() daemon.CacheKey {
	tags := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		tags[i] = strconv.Quote(t.Key) + "=" + strconv.Quote(t.Value)
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	filter := fmt.Sprintf("addr_type=%s;tags=%s;vpc_id=%s;zone_id=%s",
		strconv.Quote(string(c.AddrType)), strings.Join(tags, ","), strconv.Quote(c.VpcID), strconv.Quote(c.ZoneID))
	return daemon.CacheKey{Region: c.Region, Filter: filter}
}

// EndpointHost returns the ECS API host the daemon talks to: --endpoint when
// given, else ecs-vpc.<region>.aliyuncs.com for --network vpc, else the
// public regional endpoint ecs.<region>.aliyuncs.com.
func (c *Config) EndpointHost() string {
	switch {
	case c.Endpoint != "":
		return c.Endpoint
	case c.Network == "vpc":
		return "ecs-vpc." + c.Region + ".aliyuncs.com"
	default:
		return "ecs." + c.Region + ".aliyuncs.com"
	}
}

// Redacted returns c's settings as log-safe key/value pairs: secrets appear
// as REDACTED, never their value.
func (c *Config) Redacted() map[string]string {
	tags := make([]string, len(c.Tags))
	for i, t := range c.Tags {
		tags[i] = t.String()
	}
	m := map[string]string{
		"region":            c.Region,
		"tags":              strings.Join(tags, ","),
		"vpc_id":            c.VpcID,
		"zone_id":           c.ZoneID,
		"addr_type":         string(c.AddrType),
		"endpoint":          c.EndpointScheme + "://" + c.EndpointHost(),
		"network":           c.Network,
		"metadata_endpoint": c.MetadataEndpoint,
		"access_key_id":     c.AccessKeyID,
		"access_key_secret": "",
		"credential_source": cmp.Or(c.CredentialSource, SourceAuto),
		"ram_role":          c.RAMRole,
		"metadata_hardened": strconv.FormatBool(c.MetadataHardened),
		"sts_endpoint":      c.STSEndpoint,
	}
	if c.AccessKeySecret != "" {
		m["access_key_secret"] = "REDACTED"
	}
	return m
}

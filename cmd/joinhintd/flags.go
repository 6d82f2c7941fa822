package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/daemon"
)

// envPrefix: every flag --x-y also reads JOINHINTD_X_Y; the command line wins.
const envPrefix = "JOINHINTD"

// options are the parsed flags of run, discover and demo.
type options struct {
	fs   *flag.FlagSet
	args []string // the command line, to tell flags given there from JOINHINTD_* ones

	autoJoinFile     string
	insecureEndpoint bool
	autoJoin         string
	region           string
	tags             tagList
	vpcID, zoneID    string
	addrType         string
	endpoint         string
	endpointScheme   string
	network          string
	metadataEndpoint string
	metadataHardened bool
	credentialSource string
	ramRole          string
	stsEndpoint      string
	stsScheme        string
	cacheFile        string

	refreshInterval time.Duration
	refreshTimeout  time.Duration
	maxStale        time.Duration
	listen          string

	logLevel, logFormat string

	vaultScheme       string
	vaultPort         int
	leaderCACert      string
	leaderServerName  string
	leaderClientCert  string
	leaderClientKey   string
	discoverOutput    string
	discoverTimeout   time.Duration
	shutdownTimeout   time.Duration
	apiConnectTimeout time.Duration
	apiReadTimeout    time.Duration
}

// tagList is the repeatable --tag flag. One value may also hold several
// tags separated by commas, which is how JOINHINTD_TAG carries more than one.
type tagList []aliyun.Tag

func (t *tagList) String() string {
	parts := make([]string, len(*t))
	for i, tag := range *t {
		parts[i] = tag.String()
	}
	return strings.Join(parts, ",")
}

func (t *tagList) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		tag, err := aliyun.ParseTag(strings.TrimSpace(part))
		if err != nil {
			return err
		}
		*t = append(*t, tag)
	}
	return nil
}

// newFlagSet declares the flags of a subcommand; discover adds --output.
func newFlagSet(cmd string, out io.Writer) *options {
	o := &options{fs: flag.NewFlagSet("joinhintd "+cmd, flag.ContinueOnError)}
	fs := o.fs
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: joinhintd %s [flags]\nevery flag --x-y also reads the environment variable %s_X_Y; the command line wins\n", cmd, envPrefix)
		fs.PrintDefaults()
	}
	o.logFlags()
	switch cmd {
	case "demo":
		o.daemonFlags()
		return o
	case "discover":
		fs.StringVar(&o.discoverOutput, "output", "text", "text (one address a line), json (the /v1/peers document) or go-discover (one line)")
		fs.DurationVar(&o.discoverTimeout, "timeout", time.Minute, "give up after this long")
	case "check":
		fs.DurationVar(&o.discoverTimeout, "timeout", time.Minute, "give up after this long")
	default:
		o.daemonFlags()
		fs.StringVar(&o.cacheFile, "cache-file", "", "keep the last good peer set in this file and serve it at start until a live refresh succeeds; \"off\" for none (default: $STATE_DIRECTORY/"+cacheFileName+" under systemd's StateDirectory=, else off)")
	}
	o.cloudFlags()
	return o
}

// cloudFlags declares the discovery flags of run and discover.
func (o *options) cloudFlags() {
	fs := o.fs
	fs.StringVar(&o.autoJoin, "auto-join", "", "a go-discover auto_join string, e.g. \"provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1\"; explicit flags override its keys")
	fs.StringVar(&o.autoJoinFile, "auto-join-file", "", "read the auto_join string from this file (keeps access keys out of the process list)")
	fs.StringVar(&o.region, "region", "", "ECS region id (default: ALICLOUD_REGION, ALIBABA_CLOUD_REGION_ID, else the instance metadata)")
	fs.Var(&o.tags, "tag", "KEY=VALUE tag filter; repeatable (or comma separated), all must match; KEY= or KEY matches any value")
	fs.StringVar(&o.vpcID, "vpc-id", "", "only instances in this VPC")
	fs.StringVar(&o.zoneID, "zone-id", "", "only instances in this zone")
	fs.StringVar(&o.addrType, "addr-type", string(aliyun.AddrPrivateV4), "address to serve: private_v4, public_v4 or ipv6")
	fs.StringVar(&o.endpoint, "endpoint", "", "ECS API endpoint HOST[:PORT] (default: the regional endpoint)")
	fs.StringVar(&o.endpointScheme, "endpoint-scheme", "https", "https or http (http only for a loopback test server unless --insecure-endpoint)")
	fs.BoolVar(&o.insecureEndpoint, "insecure-endpoint", false, "allow --endpoint-scheme http to a non-loopback endpoint (signed requests and STS tokens travel in clear text)")
	fs.StringVar(&o.network, "network", "public", "public, or vpc for ecs-vpc.<region>.aliyuncs.com")
	fs.StringVar(&o.metadataEndpoint, "metadata-endpoint", aliyun.DefaultMetadataEndpoint, "ECS instance metadata service URL (region, this node's instance id, RAM-role credentials)")
	fs.BoolVar(&o.metadataHardened, "metadata-hardened", false, "require the metadata service's session token (hardened mode) instead of falling back to plain reads; ALIBABA_CLOUD_IMDSV1_DISABLED=true does the same")
	fs.StringVar(&o.credentialSource, "credential-source", aliyun.SourceAuto, "where credentials come from: "+strings.Join(aliyun.CredentialSources(), ", ")+" (auto takes the first that is configured)")
	fs.StringVar(&o.ramRole, "ram-role", "", "ECS RAM role name for the ram-role source (default: the role attached to the instance)")
	fs.StringVar(&o.stsEndpoint, "sts-endpoint", "", "STS endpoint HOST[:PORT] for ALIBABA_CLOUD_ROLE_ARN and OIDC (default: sts-vpc.<region>.aliyuncs.com with --network vpc, else sts.aliyuncs.com)")
	fs.StringVar(&o.stsScheme, "sts-scheme", "https", "https or http (http only for a loopback test server unless --insecure-endpoint)")
	fs.DurationVar(&o.apiConnectTimeout, "api-connect-timeout", 5*time.Second, "connect timeout of one ECS API call")
	fs.DurationVar(&o.apiReadTimeout, "api-read-timeout", 10*time.Second, "read timeout of one ECS API call")
}

// logFlags declares the logging flags of every command.
func (o *options) logFlags() {
	o.fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	o.fs.StringVar(&o.logFormat, "log-format", "auto", "auto, journal, console or json")
}

// daemonFlags declares the flags of run and demo.
func (o *options) daemonFlags() {
	fs := o.fs
	fs.DurationVar(&o.refreshInterval, "refresh-interval", 30*time.Second, "time between successful refreshes (jittered ±10%)")
	fs.DurationVar(&o.refreshTimeout, "refresh-timeout", time.Minute, "deadline of one refresh, all pages")
	fs.DurationVar(&o.maxStale, "max-stale", 5*time.Minute, "not ready after this long without a successful refresh")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8209", "HTTP listen address")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 5*time.Second, "how long to drain HTTP at stop")
	fs.StringVar(&o.vaultScheme, "vault-scheme", "https", "scheme of a peer's Vault API address in retry_join")
	fs.IntVar(&o.vaultPort, "vault-port", 8200, "port of a peer's Vault API address in retry_join")
	fs.StringVar(&o.leaderCACert, "leader-ca-cert-file", "", "copied into each retry_join stanza")
	fs.StringVar(&o.leaderServerName, "leader-tls-servername", "", "copied into each retry_join stanza")
	fs.StringVar(&o.leaderClientCert, "leader-client-cert-file", "", "copied into each retry_join stanza")
	fs.StringVar(&o.leaderClientKey, "leader-client-key-file", "", "copied into each retry_join stanza")
}

// parse reads args, then JOINHINTD_* variables for flags not on the command line.
func (o *options) parse(args []string) error {
	o.args = args
	err := ff.Parse(o.fs, args, ff.WithEnvVarPrefix(envPrefix))
	if errors.Is(err, flag.ErrHelp) {
		return flag.ErrHelp
	}
	if err != nil {
		return flagError(err)
	}
	if o.fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: flags only", o.fs.Arg(0))
	}
	return nil
}

// fromCommandLine reports whether --name (or -name) is on the command line,
// as opposed to coming from its JOINHINTD_* variable.
func (o *options) fromCommandLine(name string) bool {
	for _, a := range o.args {
		if a == "--" {
			return false
		}
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// flagError makes ff's and flag's errors one line without the duplication
// of their prefixes.
func flagError(err error) error {
	msg := err.Error()
	for _, p := range []string{"error parsing commandline arguments: ", "error parsing environment variables: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return errors.New(msg)
}

// set reports whether the flag was given, on the command line or in the
// environment.
func (o *options) set(name string) bool {
	found := false
	o.fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// cloudConfig builds and validates the aliyun configuration: flags, then the
// auto_join string for what the flags left out.
func (o *options) cloudConfig() (aliyun.Config, error) {
	c := aliyun.Config{
		Region:           o.region,
		Tags:             o.tags,
		VpcID:            o.vpcID,
		ZoneID:           o.zoneID,
		AddrType:         aliyun.AddrType(o.addrType),
		Endpoint:         o.endpoint,
		EndpointScheme:   o.endpointScheme,
		Network:          o.network,
		MetadataEndpoint: o.metadataEndpoint,
		ConnectTimeout:   o.apiConnectTimeout,
		ReadTimeout:      o.apiReadTimeout,
	}
	c.InsecureEndpoint = o.insecureEndpoint
	c.CredentialSource = o.credentialSource
	c.RAMRole = o.ramRole
	c.MetadataHardened = o.metadataHardened || strings.EqualFold(os.Getenv("ALIBABA_CLOUD_IMDSV1_DISABLED"), "true")
	c.STSEndpoint = o.stsEndpoint
	c.STSScheme = o.stsScheme
	if o.autoJoinFile != "" {
		if o.autoJoin != "" {
			return c, fmt.Errorf("give --auto-join or --auto-join-file, not both")
		}
		s, err := aliyun.ReadAutoJoinFile(o.autoJoinFile)
		if err != nil {
			return c, err
		}
		o.autoJoin = s
	}
	if o.autoJoin != "" {
		aj, err := aliyun.ParseAutoJoin(o.autoJoin)
		if err != nil {
			return c, fmt.Errorf("invalid --auto-join: %w", err)
		}
		if err := c.ApplyAutoJoin(aj, o.set); err != nil {
			return c, fmt.Errorf("invalid --auto-join: %w", err)
		}
	}
	if c.Region == "" {
		c.Region = firstEnv("ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID")
	}
	if o.apiConnectTimeout <= 0 {
		return c, fmt.Errorf("invalid --api-connect-timeout %s: want a duration > 0", o.apiConnectTimeout)
	}
	if o.apiReadTimeout <= 0 {
		return c, fmt.Errorf("invalid --api-read-timeout %s: want a duration > 0", o.apiReadTimeout)
	}
	return c, c.Validate()
}

// daemonConfig validates the flags of run and demo.
func (o *options) daemonConfig() (daemon.RenderOptions, error) {
	ro := daemon.RenderOptions{
		VaultScheme:          o.vaultScheme,
		VaultPort:            o.vaultPort,
		LeaderCACertFile:     o.leaderCACert,
		LeaderTLSServerName:  o.leaderServerName,
		LeaderClientCertFile: o.leaderClientCert,
		LeaderClientKeyFile:  o.leaderClientKey,
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"refresh-interval", o.refreshInterval}, {"refresh-timeout", o.refreshTimeout}, {"max-stale", o.maxStale}, {"shutdown-timeout", o.shutdownTimeout}} {
		if d.v <= 0 {
			return ro, fmt.Errorf("invalid --%s %s: want a duration > 0, e.g. 30s", d.name, d.v)
		}
	}
	if o.vaultScheme != "https" && o.vaultScheme != "http" {
		return ro, fmt.Errorf("invalid --vault-scheme %q: want https or http", o.vaultScheme)
	}
	if o.vaultPort < 1 || o.vaultPort > 65535 {
		return ro, fmt.Errorf("invalid --vault-port %d: want 1 to 65535", o.vaultPort)
	}
	if _, port, err := net.SplitHostPort(o.listen); err != nil || port == "" {
		return ro, fmt.Errorf("invalid --listen %q: want HOST:PORT, e.g. 127.0.0.1:8209", o.listen)
	}
	if err := ro.Validate(); err != nil {
		// The leader TLS settings: a NUL or invalid UTF-8 in a path.
		return ro, fmt.Errorf("invalid --leader-* setting: %w", err)
	}
	return ro, nil
}

// firstEnv returns the first non-empty environment variable of names.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

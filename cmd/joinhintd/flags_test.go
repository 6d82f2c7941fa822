package main

import (
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// Every flag of every command reads JOINHINTD_<FLAG>.
func TestEveryFlagReadsItsEnvironmentVariable(t *testing.T) {
	isolate(t)
	for _, cmd := range []string{"run", "discover", "check", "demo"} {
		probe := newFlagSet(cmd, io.Discard)
		probe.fs.VisitAll(func(f *flag.Flag) {
			t.Run(cmd+"/"+f.Name, func(t *testing.T) {
				value := sampleValue(f)
				env := "JOINHINTD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
				t.Setenv(env, value)
				o := newFlagSet(cmd, io.Discard)
				if err := o.parse(nil); err != nil {
					t.Fatalf("%s=%s: %v", env, value, err)
				}
				if got := o.fs.Lookup(f.Name).Value.String(); got != value {
					t.Errorf("%s=%s gave --%s %q", env, value, f.Name, got)
				}
				if !o.set(f.Name) {
					t.Errorf("--%s from %s does not count as set", f.Name, env)
				}
			})
		})
	}
}

// sampleValue is a valid, non-default value for a flag.
func sampleValue(f *flag.Flag) string {
	name := f.Name
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "true"
	}
	switch {
	case strings.HasSuffix(name, "interval"), strings.HasSuffix(name, "timeout"), name == "max-stale":
		return "7s"
	case name == "vault-port":
		return "8300"
	case name == "tag":
		return "vault=cluster9"
	default:
		return "sample-" + name
	}
}

func TestCommandLineBeatsEnvironment(t *testing.T) {
	isolate(t)
	t.Setenv("JOINHINTD_REGION", "cn-beijing")
	t.Setenv("JOINHINTD_TAG", "a=1,b=2")
	o := newFlagSet("run", io.Discard)
	if err := o.parse([]string{"--region", "cn-shanghai"}); err != nil {
		t.Fatal(err)
	}
	if o.region != "cn-shanghai" {
		t.Errorf("region %q", o.region)
	}
	if o.tags.String() != "a=1,b=2" {
		t.Errorf("JOINHINTD_TAG with two tags gave %q", o.tags.String())
	}
}

// cloudConfig turns flags, auto_join and region variables into the
// discovery settings, flags first.
func TestCloudConfig(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c aliyun.Config)
	}{
		{"flags", []string{"--region", "cn-beijing", "--tag", "vault=c1", "--tag", "role", "--vpc-id", "vpc-1", "--zone-id", "cn-beijing-h",
			"--addr-type", "public_v4", "--network", "vpc", "--api-connect-timeout", "2s", "--api-read-timeout", "3s"}, nil,
			func(t *testing.T, c aliyun.Config) {
				if c.Region != "cn-beijing" || len(c.Tags) != 2 || c.Tags[1] != (aliyun.Tag{Key: "role"}) || c.VpcID != "vpc-1" || c.ZoneID != "cn-beijing-h" ||
					c.AddrType != aliyun.AddrPublicV4 || c.EndpointHost() != "ecs-vpc.cn-beijing.aliyuncs.com" || c.EndpointScheme != "https" ||
					c.ConnectTimeout != 2*time.Second || c.ReadTimeout != 3*time.Second {
					t.Errorf("%+v", c)
				}
			}},
		{"defaults", []string{"--tag", "vault=c1", "--region", "cn-hangzhou"}, nil, func(t *testing.T, c aliyun.Config) {
			if c.EndpointHost() != "ecs.cn-hangzhou.aliyuncs.com" || c.EndpointScheme != "https" || c.AddrType != aliyun.AddrPrivateV4 ||
				c.MetadataEndpoint != "http://100.100.100.200" {
				t.Errorf("%+v", c)
			}
		}},
		{"endpoint wins over network", []string{"--tag", "k", "--region", "cn-hangzhou", "--network", "vpc", "--endpoint", "ecs.internal.example:8443"}, nil,
			func(t *testing.T, c aliyun.Config) {
				if c.EndpointHost() != "ecs.internal.example:8443" {
					t.Errorf("%s", c.EndpointHost())
				}
			}},
		{"auto_join seed example", []string{"--auto-join", "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=AK access_key_secret=SK addr_type=private_v4"}, nil,
			func(t *testing.T, c aliyun.Config) {
				if c.Region != "cn-hangzhou" || c.Tags[0] != (aliyun.Tag{Key: "vault", Value: "cluster1"}) || c.AccessKeyID != "AK" || c.AccessKeySecret != "SK" {
					t.Errorf("%+v", c)
				}
			}},
		{"flags override auto_join", []string{"--auto-join", "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 addr_type=public_v4",
			"--region", "cn-shanghai", "--tag", "vault=cluster2", "--addr-type", "ipv6"}, nil,
			func(t *testing.T, c aliyun.Config) {
				if c.Region != "cn-shanghai" || c.Tags[0].Value != "cluster2" || len(c.Tags) != 1 || c.AddrType != aliyun.AddrIPv6 {
					t.Errorf("%+v", c)
				}
			}},
		{"ALICLOUD_REGION", []string{"--tag", "k"}, map[string]string{"ALICLOUD_REGION": "cn-qingdao", "ALIBABA_CLOUD_REGION_ID": "cn-beijing"},
			func(t *testing.T, c aliyun.Config) {
				if c.Region != "cn-qingdao" {
					t.Errorf("region %q", c.Region)
				}
			}},
		{"ALIBABA_CLOUD_REGION_ID", []string{"--tag", "k"}, map[string]string{"ALIBABA_CLOUD_REGION_ID": "cn-beijing"},
			func(t *testing.T, c aliyun.Config) {
				if c.Region != "cn-beijing" {
					t.Errorf("region %q", c.Region)
				}
			}},
		{"no region: left to the metadata service", []string{"--tag", "k"}, nil, func(t *testing.T, c aliyun.Config) {
			if c.Region != "" {
				t.Errorf("region %q", c.Region)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolate(t)
			t.Setenv("JOINHINTD_ENDPOINT", "")
			t.Setenv("JOINHINTD_ENDPOINT_SCHEME", "")
			t.Setenv("JOINHINTD_METADATA_ENDPOINT", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			o := newFlagSet("run", io.Discard)
			if err := o.parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := o.cloudConfig()
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// Bad input: one line naming the flag, exit 2, nothing started.
func TestBadInput(t *testing.T) {
	base := []string{"--tag", "vault=c1", "--region", "cn-hangzhou", "--metadata-endpoint", "http://127.0.0.1:1", "--log-format", "json"}
	tests := []struct {
		cmd  string
		args []string
		msg  string
	}{
		{"run", []string{"--refresh-interval", "0s"}, "invalid --refresh-interval 0s: want a duration > 0"},
		{"run", []string{"--refresh-interval", "soon"}, `invalid value "soon" for flag -refresh-interval`},
		{"run", []string{"--refresh-timeout", "-1s"}, "invalid --refresh-timeout"},
		{"run", []string{"--max-stale", "0s"}, "invalid --max-stale"},
		{"run", []string{"--shutdown-timeout", "0s"}, "invalid --shutdown-timeout"},
		{"run", []string{"--listen", "8209"}, `invalid --listen "8209": want HOST:PORT`},
		{"run", []string{"--vault-port", "0"}, "invalid --vault-port 0: want 1 to 65535"},
		{"run", []string{"--vault-scheme", "ftp"}, `invalid --vault-scheme "ftp": want https or http`},
		{"run", []string{"--log-level", "loud"}, `invalid --log-level "loud": want debug, info, warn or error`},
		{"run", []string{"--log-format", "xml"}, `invalid --log-format "xml"`},
		{"run", []string{"--addr-type", "v6"}, `invalid --addr-type "v6"`},
		{"run", []string{"--endpoint-scheme", "ftp"}, "invalid --endpoint-scheme"},
		{"run", []string{"--network", "private"}, "invalid --network"},
		{"run", []string{"--endpoint", "https://ecs.example.com"}, "invalid --endpoint"},
		{"run", []string{"--metadata-endpoint", "100.100.100.200"}, "invalid --metadata-endpoint"},
		{"run", []string{"--region", "Hangzhou"}, `invalid --region "Hangzhou"`},
		{"run", []string{"--tag", "=x"}, `invalid --tag "=x"`},
		{"run", []string{"--api-read-timeout", "0s"}, "invalid --api-read-timeout"},
		{"run", []string{"--api-connect-timeout", "0s"}, "invalid --api-connect-timeout"},
		{"run", []string{"--auto-join", "provider=aliyun region=a region=b"}, `invalid --auto-join: auto_join key "region" is given twice`},
		{"run", []string{"--auto-join", "provider=aliyun tagkey=vault"}, `unknown key(s) "tagkey"`},
		{"run", []string{"--auto-join", "provider=gce"}, `provider "gce" is not supported`},
		{"run", []string{"--leader-ca-cert-file", "/etc/\xffca.pem"}, "invalid --leader-* setting: leader_ca_cert_file: not valid UTF-8"},
		{"discover", []string{"--output", "yaml"}, "invalid --output"},
		{"demo", []string{"--listen", "nope"}, "invalid --listen"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			isolate(t)
			args := append([]string{tt.cmd}, tt.args...)
			if tt.cmd != "demo" {
				args = append([]string{tt.cmd}, append(append([]string{}, base...), tt.args...)...)
			}
			code, out, errs := execute(t, args...)
			if code != exitConfig {
				t.Fatalf("exit %d, want 2; stderr %q", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "joinhintd: ") || !strings.Contains(last, tt.msg) {
				t.Errorf("stderr %q, want one line with %q", errs, tt.msg)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	isolate(t)
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, exitConfig, "", "missing command: want one of run, discover, check, demo, version"},
		{[]string{"serve"}, exitConfig, "", `unknown command "serve": want one of run, discover, check, demo, version`},
		{[]string{"help"}, exitOK, "commands: run, discover, check, demo, version", ""},
		{[]string{"version"}, exitOK, "joinhintd ", ""},
		{[]string{"version", "extra"}, exitConfig, "", "version takes no arguments"},
		{[]string{"run", "-h"}, exitOK, "", "-refresh-interval"},
		{[]string{"discover", "-h"}, exitOK, "", "-output"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := execute(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Errorf("exit %d stdout %q stderr %q", code, out, errs)
			}
		})
	}
}

func TestLogLevelAndFormat(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	_, _, quiet := execute(t, append([]string{"discover"}, f.args()...)...)
	_, _, debug := execute(t, append([]string{"discover", "--log-level", "debug"}, f.args()...)...)
	if strings.Contains(quiet, "page read") || !strings.Contains(debug, `"msg":"page read"`) {
		t.Errorf("info:\n%s\ndebug:\n%s", quiet, debug)
	}
	args := append([]string{"discover"}, f.args()...)
	args = append(args, "--log-level", "debug", "--log-format", "journal")
	_, _, journal := execute(t, args...)
	if !strings.Contains(journal, "<7>aliyun: page read page=1") {
		t.Errorf("journal format: %q", journal)
	}
}

func TestMaxStaleMakesNotReady(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0", "--refresh-interval", "100ms", "--max-stale", "500ms"}, f.args()...)...)
	waitFor(t, "ready", 5*time.Second, func() bool { code, _ := d.get(t, "/-/ready"); return code == http.StatusOK })
	f.api.Inject(ecstest.Fault{Kind: ecstest.FaultInternalError, Times: -1})
	waitFor(t, "not ready", 10*time.Second, func() bool { code, _ := d.get(t, "/-/ready"); return code == http.StatusServiceUnavailable })
	doc := d.peers(t)
	if !doc.Stale || len(doc.Peers) != 1 {
		t.Errorf("after max-stale: %+v", doc)
	}
	_, body := d.get(t, "/-/ready")
	if !strings.Contains(body, `"error"`) {
		t.Errorf("ready body %q", body)
	}
}

func TestAutoJoinFile(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "provider=aliyun region=cn-hangzhou tag_key=vault\n tag_value=\"cluster1\" access_key_id="+ecstest.DefaultAccessKeyID+"\naccess_key_secret="+ecstest.DefaultAccessKeySecret+"\n")
	rest := f.args()[2:] // everything but --auto-join
	t.Run("keys from the file, no warning", func(t *testing.T) {
		code, out, errs := execute(t, append([]string{"discover", "--auto-join-file", good}, rest...)...)
		if code != exitOK || out != "172.16.0.2\n" {
			t.Fatalf("exit %d out %q err %s", code, out, errs)
		}
		if strings.Contains(errs, "command line") {
			t.Errorf("warned although the secret is in a file: %s", errs)
		}
	})
	t.Run("secret on the command line warns", func(t *testing.T) {
		code, _, errs := execute(t, append([]string{"discover"}, f.args()...)...)
		if code != exitOK || !strings.Contains(errs, "access_key_secret is on the command line") || !strings.Contains(errs, `"level":"warn"`) {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if strings.Contains(errs, ecstest.DefaultAccessKeySecret) {
			t.Error("the warning echoes the secret")
		}
	})
	t.Run("secret in the environment does not warn", func(t *testing.T) {
		t.Setenv("JOINHINTD_AUTO_JOIN", f.args()[1])
		code, _, errs := execute(t, append([]string{"discover"}, rest...)...)
		if code != exitOK || strings.Contains(errs, "command line") {
			t.Fatalf("exit %d: %s", code, errs)
		}
	})
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"both", []string{"--auto-join-file", good, "--auto-join", "provider=aliyun"}, "give --auto-join or --auto-join-file, not both"},
		{"missing file", []string{"--auto-join-file", filepath.Join(dir, "nope")}, "invalid --auto-join-file: open "},
		{"empty file", []string{"--auto-join-file", write("empty", "\n \n")}, "empty"},
		{"bad content", []string{"--auto-join-file", write("bad", "provider=aliyun provider=aliyun")}, `key "provider" is given twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := execute(t, append(append([]string{"discover"}, rest...), tt.args...)...)
			if code != exitConfig || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d: %s", code, errs)
			}
		})
	}
}

func TestInsecureEndpointFlag(t *testing.T) {
	isolate(t)
	t.Setenv("JOINHINTD_ENDPOINT", "")
	o := newFlagSet("run", io.Discard)
	if err := o.parse([]string{"--tag", "k", "--region", "cn-hangzhou", "--endpoint", "ecs.example.internal", "--endpoint-scheme", "http"}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.cloudConfig(); err == nil || !strings.Contains(err.Error(), "--insecure-endpoint") {
		t.Fatalf("http to a remote endpoint: %v", err)
	}
	o = newFlagSet("run", io.Discard)
	if err := o.parse([]string{"--tag", "k", "--region", "cn-hangzhou", "--endpoint", "ecs.example.internal", "--endpoint-scheme", "http", "--insecure-endpoint"}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.cloudConfig(); err != nil {
		t.Fatalf("--insecure-endpoint: %v", err)
	}
}

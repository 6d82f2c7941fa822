package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// fleet250 is 250 running cluster1 nodes plus every kind of decoy.
func fleet250() (fleet []ecstest.Instance, want []string) {
	for n := 1; n <= 250; n++ {
		in := node(n, "Running", cluster1)
		fleet = append(fleet, in)
		want = append(want, in.PrivateIPs[0])
	}
	other := node(900, "Running", ecstest.Tag{Key: "vault", Value: "cluster2"})
	stopped := node(901, "Stopped", cluster1)
	untagged := node(902, "Running")
	anotherKey := node(903, "Running", ecstest.Tag{Key: "consul", Value: "cluster1"})
	return append(fleet, other, stopped, untagged, anotherKey), want
}

func TestDiscover250InThreeCalls(t *testing.T) {
	fleet, want := fleet250()
	f := newFakes(t, fleet, ecstest.Metadata{})
	code, out, errs := execute(t, append([]string{"discover"}, f.args()...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := strings.Fields(out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("printed %d addresses, want exactly the 250 tagged running ones:\n%s", len(got), out)
	}
	if n := f.api.CallCount(ecstest.ActionDescribeInstances); n != 3 {
		t.Errorf("%d DescribeInstances calls, want 3", n)
	}
}

func TestDiscoverOutputs(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1), node(3, "Stopped", cluster1)}
	f := newFakes(t, fleet, ecstest.Metadata{RegionID: "cn-hangzhou", InstanceID: fleet[1].ID})
	t.Run("text", func(t *testing.T) {
		_, out, _ := execute(t, append([]string{"discover", "--output", "text"}, f.args()...)...)
		if out != "172.16.0.2\n172.16.0.3\n" {
			t.Errorf("text: %q", out)
		}
	})
	t.Run("go-discover", func(t *testing.T) {
		_, out, _ := execute(t, append([]string{"discover", "--output", "go-discover"}, f.args()...)...)
		if out != "172.16.0.2 172.16.0.3\n" {
			t.Errorf("go-discover: %q", out)
		}
	})
	t.Run("json", func(t *testing.T) {
		_, out, _ := execute(t, append([]string{"discover", "--output", "json"}, f.args()...)...)
		var doc peersDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: %q", err, out)
		}
		if doc.Revision != 1 || doc.Region != "cn-hangzhou" || doc.Source != "ecs" || len(doc.Peers) != 2 || doc.Peers[0].Self || !doc.Peers[1].Self {
			t.Errorf("json document: %+v", doc)
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		t.Setenv("JOINHINTD_OUTPUT", "go-discover")
		_, out, _ := execute(t, append([]string{"discover"}, f.args()...)...)
		if out != "172.16.0.2 172.16.0.3\n" {
			t.Errorf("JOINHINTD_OUTPUT=go-discover: %q", out)
		}
	})
	t.Run("flag beats environment", func(t *testing.T) {
		t.Setenv("JOINHINTD_OUTPUT", "json")
		_, out, _ := execute(t, append([]string{"discover", "--output", "text"}, f.args()...)...)
		if out != "172.16.0.2\n172.16.0.3\n" {
			t.Errorf("--output text with JOINHINTD_OUTPUT=json: %q", out)
		}
	})
}

func TestDiscoverExitCodes(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	tests := []struct {
		name  string
		setup func()
		args  []string
		code  int
		msg   string
	}{
		{"api failure", func() { f.api.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable}) }, nil, exitFailure, "discovery failed (server)"},
		{"wrong secret", nil, []string{"--auto-join", "provider=aliyun region=cn-hangzhou tag_key=vault tag_value=cluster1 access_key_id=" + ecstest.DefaultAccessKeyID + " access_key_secret=nottheone"}, exitFailure, "SignatureDoesNotMatch"},
		{"bad output", nil, []string{"--output", "yaml"}, exitConfig, `invalid --output "yaml": want text, json or go-discover`},
		{"bad timeout", nil, []string{"--timeout", "0s"}, exitConfig, "invalid --timeout"},
		{"bad addr type", nil, []string{"--addr-type", "private"}, exitConfig, "invalid --addr-type"},
		{"unknown flag", nil, []string{"--colour"}, exitConfig, "flag provided but not defined: -colour"},
		{"stray argument", nil, []string{"extra"}, exitConfig, `unexpected argument "extra"`},
		{"other provider", nil, []string{"--auto-join", "provider=aws tag_key=a"}, exitConfig, `provider "aws" is not supported`},
		{"no region anywhere", nil, []string{"--auto-join", "provider=aliyun tag_key=vault"}, exitConfig, "no region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			code, out, errs := execute(t, append(append([]string{"discover"}, f.args()...), tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, tt.code, tt.msg)
			}
			if out != "" {
				t.Errorf("printed %q on failure", out)
			}
			if strings.Contains(errs, "goroutine ") || strings.Contains(errs, "panic") {
				t.Errorf("stack trace on stderr: %s", errs)
			}
			last := strings.TrimSpace(errs[strings.LastIndex(strings.TrimSpace(errs), "\n")+1:])
			if !strings.HasPrefix(last, "joinhintd: ") {
				t.Errorf("last stderr line is not the one-line error: %q", last)
			}
			if strings.Contains(errs, "nottheone") {
				t.Errorf("the secret is echoed: %s", errs)
			}
		})
	}
}

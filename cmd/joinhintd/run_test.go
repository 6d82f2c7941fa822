package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

func TestRunFollowsFleetChanges(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1), node(3, "Running", cluster1), node(4, "Running")}
	f := newFakes(t, fleet, ecstest.Metadata{InstanceID: fleet[0].ID})
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0", "--refresh-interval", "300ms"}, f.args()...)...)
	waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
	first := d.peers(t)
	if first.Revision != 1 || len(first.Peers) != 3 || !first.Peers[0].Self {
		t.Fatalf("first set: %+v", first)
	}

	// Several unchanged refreshes leave the revision alone.
	calls := f.api.CallCount(ecstest.ActionDescribeInstances)
	waitFor(t, "three more refreshes", 5*time.Second, func() bool { return f.api.CallCount(ecstest.ActionDescribeInstances) >= calls+3 })
	if doc := d.peers(t); doc.Revision != 1 {
		t.Fatalf("unchanged refreshes moved the revision to %d", doc.Revision)
	}

	// Stop node 2, start a new node 5: the next refresh shows both.
	f.api.SetStatus(fleet[1].ID, "Stopped")
	f.api.PutInstance(node(5, "Running", cluster1))
	changedAt := f.api.CallCount(ecstest.ActionDescribeInstances)
	var doc peersDoc
	waitFor(t, "the change to be served", 5*time.Second, func() bool { doc = d.peers(t); return doc.Revision == 2 })
	if n := f.api.CallCount(ecstest.ActionDescribeInstances); n > changedAt+2 {
		t.Errorf("the change took %d refreshes to show, want the next one", n-changedAt)
	}
	var ids []string
	for _, p := range doc.Peers {
		ids = append(ids, p.InstanceID)
	}
	if strings.Join(ids, " ") != fleet[0].ID+" "+fleet[2].ID+" i-bp1vault00005" {
		t.Fatalf("peers after the change: %v", ids)
	}
	var changeLog map[string]any
	for _, l := range d.stderr.logLines(t) {
		if l["msg"] == "peer set changed" && l["revision"] == float64(2) {
			changeLog = l
		}
	}
	if changeLog == nil || changeLog["level"] != "info" ||
		strings.Join(toStrings(changeLog["added"]), " ") != "i-bp1vault00005=172.16.0.6" ||
		strings.Join(toStrings(changeLog["removed"]), " ") != fleet[1].ID+"=172.16.0.3" {
		t.Fatalf("change log: %v", changeLog)
	}
	if got := d.metric(t, "joinhintd_peer_set_changes_total"); got != "2" {
		t.Errorf("peer_set_changes_total %s, want 2", got)
	}
	if got := d.metric(t, "joinhintd_peers"); got != "3" {
		t.Errorf("joinhintd_peers %s, want 3", got)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, x := range list {
		out[i], _ = x.(string)
	}
	return out
}

func TestRunFaultOnPage2KeepsServedSet(t *testing.T) {
	fleet, _ := fleet250()
	f := newFakes(t, fleet, ecstest.Metadata{})
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0", "--refresh-interval", "200ms"}, f.args()...)...)
	waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
	before := d.peers(t)
	if len(before.Peers) != 250 {
		t.Fatalf("%d peers", len(before.Peers))
	}
	// Node 250 is on page 3: stop it, then fail page 2 of the next two
	// refreshes (each queued fault lets one page pass, then fails one).
	f.api.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable, Skip: 1})
	f.api.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable, Skip: 1})
	f.api.SetStatus(fleet[249].ID, "Stopped")
	waitFor(t, "two failed refreshes", 10*time.Second, func() bool {
		return d.metric(t, `joinhintd_refresh_failures_total{reason="server"}`) == "2"
	})
	after := d.peers(t)
	if after.Revision != before.Revision || len(after.Peers) != 250 {
		t.Fatalf("a failed refresh changed the served set: revision %d, %d peers", after.Revision, len(after.Peers))
	}
	if got := d.metric(t, `joinhintd_ecs_requests_total{action="DescribeInstances",code="ServiceUnavailable"}`); got != "2" {
		t.Errorf(`ecs_requests_total{code="ServiceUnavailable"} = %q, want 2`, got)
	}
	var warned bool
	for _, l := range d.stderr.logLines(t) {
		if l["msg"] == "refresh failed" && l["level"] == "warn" && l["code"] == "ServiceUnavailable" && l["request_id"] != "" && l["reason"] == "server" {
			warned = true
		}
	}
	if !warned {
		t.Error("no warn log naming the code and request id")
	}
	// Recovery: the next refresh publishes the change.
	waitFor(t, "recovery", 10*time.Second, func() bool { return d.peers(t).Revision == before.Revision+1 })
	if n := len(d.peers(t).Peers); n != 249 {
		t.Errorf("%d peers after recovery, want 249", n)
	}
}

func TestRunRetryJoinExcludesSelfAndRegionFromMetadata(t *testing.T) {
	fleet := []ecstest.Instance{node(1, "Running", cluster1), node(2, "Running", cluster1)}
	fleet[1].PrivateIPs = nil
	fleet[1].IPv6 = []string{"2408:4005:3ff::2"}
	self := node(3, "Running", cluster1)
	self.IPv6 = []string{"2408:4005:3ff::3"}
	fleet[0].IPv6 = []string{"2408:4005:3ff::1"}
	fleet = append(fleet, self)
	f := newFakes(t, fleet, ecstest.Metadata{RegionID: "cn-hangzhou", InstanceID: self.ID})
	args := f.args("--listen", "127.0.0.1:0", "--addr-type", "ipv6", "--vault-port", "8300",
		"--leader-ca-cert-file", "/etc/vault/ca.pem", "--leader-tls-servername", "vault.internal",
		"--leader-client-cert-file", "/etc/vault/c.pem", "--leader-client-key-file", "/etc/vault/k.pem")
	args[1] = "provider=aliyun tag_key=vault tag_value=cluster1 access_key_id=" + ecstest.DefaultAccessKeyID + " access_key_secret=" + ecstest.DefaultAccessKeySecret
	d := startDaemon(t, append([]string{"run"}, args...)...)
	waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
	doc := d.peers(t)
	if doc.Region != "cn-hangzhou" || len(doc.Peers) != 3 || !doc.Peers[2].Self {
		t.Fatalf("peers: %+v", doc)
	}
	_, hcl := d.get(t, "/v1/retry-join")
	for _, want := range []string{`"https://[2408:4005:3ff::1]:8300"`, `"https://[2408:4005:3ff::2]:8300"`, `leader_ca_cert_file`, `"/etc/vault/ca.pem"`,
		`"vault.internal"`, `"/etc/vault/c.pem"`, `"/etc/vault/k.pem"`} {
		if !strings.Contains(hcl, want) {
			t.Errorf("retry-join hcl lacks %s:\n%s", want, hcl)
		}
	}
	if strings.Contains(hcl, "::3") || strings.Count(hcl, "retry_join {") != 2 {
		t.Errorf("retry-join must have two stanzas and not this node:\n%s", hcl)
	}
	_, js := d.get(t, "/v1/retry-join?format=json")
	var rj struct {
		RetryJoin []map[string]string `json:"retry_join"`
	}
	if err := json.Unmarshal([]byte(js), &rj); err != nil || len(rj.RetryJoin) != 2 || rj.RetryJoin[0]["leader_api_addr"] != "https://[2408:4005:3ff::1]:8300" {
		t.Errorf("retry-join json %s (%v)", js, err)
	}
}

func TestRunHealthReadyAndMetrics(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, f.args()...)...)
	waitFor(t, "ready", 5*time.Second, func() bool { code, _ := d.get(t, "/-/ready"); return code == http.StatusOK })
	if code, _ := d.get(t, "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy %d", code)
	}
	if code, body := d.get(t, "/nope"); code != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Errorf("/nope: %d %s", code, body)
	}
	if code, _ := d.get(t, "/v1/peers?format=xml"); code != http.StatusBadRequest {
		t.Errorf("bad format: %d", code)
	}
	resp, err := http.Post(d.base+"/v1/peers", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	for _, series := range []string{
		`joinhintd_ecs_requests_total{action="DescribeInstances",code="Success"}`,
		`joinhintd_refresh_duration_seconds_count`,
		`joinhintd_last_refresh_success_timestamp_seconds`,
		`joinhintd_peers`,
		`joinhintd_refresh_failures_total{reason="throttled"}`,
		`go_goroutines`,
		`process_start_time_seconds`,
	} {
		if d.metric(t, series) == "" {
			t.Errorf("no %s in /metrics", series)
		}
	}
	if !strings.Contains(func() string { _, b := d.get(t, "/metrics"); return b }(), `joinhintd_build_info{goversion="go`) {
		t.Error("no build_info")
	}
	// The start log carries the settings, the secret redacted.
	var start map[string]any
	for _, l := range d.stderr.logLines(t) {
		if l["msg"] == "starting" {
			start = l
		}
	}
	settings, _ := start["settings"].(map[string]any)
	if settings["access_key_secret"] != "REDACTED" || settings["region"] != "cn-hangzhou" || start["credential_source"] != "static" {
		t.Errorf("start log: %v", start)
	}
	if strings.Contains(d.stderr.String(), ecstest.DefaultAccessKeySecret) {
		t.Error("the access key secret is in the logs")
	}
	if code := d.stop(t); code != exitOK {
		t.Errorf("exit %d", code)
	}
	if !strings.Contains(d.stderr.String(), `"msg":"stopped"`) {
		t.Error("no stop log")
	}
}

func TestRunListenInUse(t *testing.T) {
	f := newFakes(t, []ecstest.Instance{node(1, "Running", cluster1)}, ecstest.Metadata{})
	d := startDaemon(t, append([]string{"run", "--listen", "127.0.0.1:0"}, f.args()...)...)
	addr := strings.TrimPrefix(d.base, "http://")
	code, _, errs := execute(t, append([]string{"run", "--listen", addr}, f.args()...)...)
	if code != exitFailure || !strings.Contains(errs, "cannot listen") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

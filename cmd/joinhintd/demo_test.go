package main

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

func TestDemoServesTheSampleCluster(t *testing.T) {
	isolate(t)
	// Cloud settings in the environment must not lead the demo off the machine.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIreal")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "real-secret")
	t.Setenv("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1234567890123456:role/real")
	t.Setenv("ALIBABA_CLOUD_ROLE_SESSION_NAME", "x") // invalid: must not matter
	t.Setenv("ALIBABA_CLOUD_IMDSV1_DISABLED", "true")
	t.Setenv("JOINHINTD_CREDENTIAL_SOURCE", "ram-role")
	t.Setenv("JOINHINTD_ENDPOINT", "ecs.cn-hangzhou.aliyuncs.com")
	d := startDaemon(t, "demo", "--listen", "127.0.0.1:0", "--log-format", "json")
	waitFor(t, "the first peer set", 5*time.Second, func() bool { code, _ := d.get(t, "/v1/peers"); return code == http.StatusOK })
	_, text := d.get(t, "/v1/peers?format=text")
	if text != "172.16.1.11\n172.16.1.12\n172.16.1.13\n" {
		t.Fatalf("demo peers:\n%s", text)
	}
	fleet := ecstest.SampleFleet("cn-hangzhou")
	_, doc := d.get(t, "/v1/peers")
	for _, decoy := range fleet[ecstest.SampleNodes:] {
		if strings.Contains(doc, decoy.ID) || strings.Contains(doc, decoy.PrivateIPs[0]) {
			t.Errorf("decoy %s (%s) is served", decoy.ID, decoy.Name)
		}
	}
	_, hcl := d.get(t, "/v1/retry-join")
	if strings.Count(hcl, "retry_join {") != 2 || strings.Contains(hcl, "172.16.1.11") {
		t.Errorf("demo retry-join must leave out this node (vault-1):\n%s", hcl)
	}
	out := d.stdout.String()
	for _, want := range []string{"curl " + d.base + "/v1/peers", "curl " + d.base + "/v1/retry-join", "curl " + d.base + "/metrics"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo does not print %q:\n%s", want, out)
		}
	}
}

// The real binary stops cleanly on SIGTERM and SIGINT, exit 0.
func TestSignalsStopCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	// Build before isolate, which moves HOME and with it the build cache.
	bin := filepath.Join(t.TempDir(), "joinhintd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	isolate(t)
	t.Run("second signal exits at once", func(t *testing.T) {
		cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--log-format", "json", "--shutdown-timeout", "1m")
		var stderr syncBuffer
		cmd.Stderr, cmd.Stdout = &stderr, &syncBuffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		waitFor(t, "the first refresh", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "peer set changed") })
		var start map[string]any
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, `"msg":"starting"`) {
				_ = json.Unmarshal([]byte(l), &start)
			}
		}
		// A client that sends half a request holds the drain open.
		conn, err := net.Dial("tcp", start["listen"].(string))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("GET /v1/peers HTTP/1.1\r\n")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // let the server read it
		cmd.Process.Signal(syscall.SIGTERM)
		waitFor(t, "draining", 5*time.Second, func() bool { return strings.Contains(stderr.String(), "stopping") })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			t.Fatalf("exited before the second signal (%v): the drain is not held open", err)
		case <-time.After(300 * time.Millisecond):
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
				t.Errorf("after the second signal: %v, want death by SIGTERM", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the second signal did not end the process")
		}
	})
	t.Run("SIGHUP refreshes at once", func(t *testing.T) {
		cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--log-format", "json", "--log-level", "debug", "--refresh-interval", "1h")
		var stderr syncBuffer
		cmd.Stderr, cmd.Stdout = &stderr, &syncBuffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		pages := func() int { return strings.Count(stderr.String(), `"msg":"page read"`) }
		waitFor(t, "the first refresh", 10*time.Second, func() bool { return pages() == 1 })
		for i := 2; i <= 3; i++ {
			if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "a refresh after SIGHUP", 5*time.Second, func() bool { return pages() == i })
		}
		if n := strings.Count(stderr.String(), `"msg":"refresh requested"`); n != 2 {
			t.Errorf("%d refresh requests logged for 2 SIGHUPs", n)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit after SIGHUPs and SIGTERM: %v", err)
		}
	})
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "demo", "--listen", "127.0.0.1:0", "--log-format", "json")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			cmd.Stdout = &syncBuffer{}
			cmd.Env = append(os.Environ(), "ALIBABA_CLOUD_ECS_METADATA_DISABLED=true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitFor(t, "the first refresh", 10*time.Second, func() bool { return strings.Contains(stderr.String(), "peer set changed") })
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("exit after %v: %v\n%s", sig, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no exit after %v", sig)
			}
			if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
				t.Errorf("no stop log:\n%s", stderr.String())
			}
		})
	}
}

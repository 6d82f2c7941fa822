package main

import (
	"context"
	"fmt"
	"time"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/daemon"
)

// cmdDiscover is `joinhintd discover`: one discovery, printed to stdout.
// Exit 0 on success, 1 on an API, credential or network failure, 2 on bad
// configuration.
func cmdDiscover(ctx context.Context, env environ, args []string) int {
	o := newFlagSet("discover", env.stderr)
	if code := parseFlags(o, env, args); code >= 0 {
		return code
	}
	switch o.discoverOutput {
	case "text", "json", "go-discover":
	default:
		fmt.Fprintf(env.stderr, "joinhintd: invalid --output %q: want text, json or go-discover\n", o.discoverOutput)
		return exitConfig
	}
	return oneShot(ctx, env, o, func(ctx context.Context, disc *aliyun.Discoverer, r resolved) int {
		peers, err := disc.Discover(ctx)
		if err != nil {
			fmt.Fprintf(env.stderr, "joinhintd: discovery failed (%s): %v\n", daemon.ReasonOf(err), err)
			return exitFailure
		}
		snap, _, err := daemon.NewSnapshot(nil, peers, r.cfg.Region, daemon.SourceECS, time.Now(), daemon.RenderOptions{VaultScheme: "https", VaultPort: 8200})
		if err != nil {
			fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
			return exitFailure
		}
		var body []byte
		switch o.discoverOutput {
		case "json":
			body = snap.PeersJSON(false)
		case "go-discover":
			body = snap.GoDiscover()
		default:
			body = snap.Text()
		}
		if _, err := env.stdout.Write(body); err != nil {
			fmt.Fprintf(env.stderr, "joinhintd: writing the answer: %v\n", err)
			return exitFailure
		}
		return exitOK
	})
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/daemon"
)

// metadataTimeout bounds the start-up metadata reads: off ECS the service
// does not answer, and that must not hold the start for long.
const metadataTimeout = 3 * time.Second

// parseFlags parses args into o, printing usage for -h. It returns the exit
// code to stop with, or -1 to go on.
func parseFlags(o *options, env environ, args []string) int {
	err := o.parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	return -1
}

// resolved is a discovery configuration completed from the metadata service.
type resolved struct {
	cfg    aliyun.Config
	selfID string
}

// resolve fills the region (when no flag or variable gave it) and this
// node's instance id from the metadata service. An unreachable service is
// logged once and tolerated; only a region that is still unknown is an error.
func resolve(ctx context.Context, cfg aliyun.Config, log *zap.Logger) (resolved, error) {
	md := cfg.MetadataClient()
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	r := resolved{cfg: cfg}
	id, err := md.Get(ctx, "instance-id")
	if err != nil {
		log.Info("instance metadata unavailable; this node cannot mark itself",
			zap.String("metadata_endpoint", cfg.MetadataEndpoint), zap.Error(err))
		if r.cfg.Region == "" {
			return r, fmt.Errorf("no region: give --region (or region= in --auto-join, or ALICLOUD_REGION); the metadata service did not answer: %w", err)
		}
		return r, nil
	}
	r.selfID = id
	if r.cfg.Region == "" {
		region, err := md.Get(ctx, "region-id")
		if err != nil {
			return r, fmt.Errorf("no region: give --region; the metadata service did not tell it: %w", err)
		}
		r.cfg.Region = region
		if err := r.cfg.Validate(); err != nil {
			return r, fmt.Errorf("region from the metadata service: %w", err)
		}
	}
	return r, nil
}

// newDiscoverer resolves cfg and builds the discoverer.
func newDiscoverer(ctx context.Context, cfg aliyun.Config, log *zap.Logger, obs daemon.APIObserver) (*aliyun.Discoverer, resolved, error) {
	r, err := resolve(ctx, cfg, log)
	if err != nil {
		return nil, r, err
	}
	d, err := aliyun.NewDiscoverer(r.cfg, r.selfID, log.Named("aliyun"), obs)
	return d, r, err
}

// oneShot runs what discover and check share once their own flags are
// checked: it validates --timeout, builds the logger, the configuration and
// the discoverer, and calls do with a context bounded by --timeout. do
// returns the exit code.
func oneShot(ctx context.Context, env environ, o *options, do func(ctx context.Context, disc *aliyun.Discoverer, r resolved) int) int {
	if o.discoverTimeout <= 0 {
		fmt.Fprintf(env.stderr, "joinhintd: invalid --timeout %s: want a duration > 0\n", o.discoverTimeout)
		return exitConfig
	}
	log, cfg, err := prepare(env, o)
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	defer func() { _ = log.Sync() }()
	ctx, cancel := context.WithTimeout(ctx, o.discoverTimeout)
	defer cancel()
	disc, r, err := newDiscoverer(ctx, cfg, log, nil)
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	return do(ctx, disc, r)
}

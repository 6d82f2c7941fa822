package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/daemon"
	"github.com/joinhintd/joinhintd/logging"
	"github.com/joinhintd/joinhintd/metrics"
)

// cmdRun is `joinhintd run`: the refresh loop and the local HTTP server until
// SIGTERM or SIGINT.
func cmdRun(ctx context.Context, env environ, args []string) int {
	o := newFlagSet("run", env.stderr)
	if code := parseFlags(o, env, args); code >= 0 {
		return code
	}
	var err error
	if o.cacheFile, err = cachePath(o.cacheFile, os.Getenv); err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	log, cfg, err := prepare(env, o)
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	defer func() { _ = log.Sync() }()
	return serve(ctx, env, o, log, cfg, nil)
}

// prepare builds the logger and the validated discovery configuration of
// run, discover and check, and warns about a secret on the command line.
func prepare(env environ, o *options) (*zap.Logger, aliyun.Config, error) {
	log, err := newLogger(env, o)
	if err != nil {
		return nil, aliyun.Config{}, err
	}
	cfg, err := o.cloudConfig()
	if err != nil {
		return nil, cfg, err
	}
	if o.fromCommandLine("auto-join") && cfg.AccessKeySecret != "" {
		log.Warn("access_key_secret is on the command line, where every local user can read it; move the auto_join string to --auto-join-file (mode 0600) or to JOINHINTD_AUTO_JOIN in the unit's EnvironmentFile, or better use the ECS RAM role")
	}
	return log, cfg, nil
}

// newLogger builds the logger from --log-format and --log-level.
func newLogger(env environ, o *options) (*zap.Logger, error) {
	format, err := logging.ParseFormat(o.logFormat)
	if err != nil {
		return nil, err
	}
	level, err := logging.ParseLevel(o.logLevel)
	if err != nil {
		return nil, err
	}
	return logging.New(zapcore.Lock(zapcore.AddSync(env.stderr)), logging.Options{Format: format, Level: level})
}

// serve runs the daemon with the options of run or demo, the logger and the
// validated discovery configuration cfg; o.cacheFile is the resolved cache
// path, "" for none. ready, when not nil,
// receives the listening address once the server accepts connections.
func serve(ctx context.Context, env environ, o *options, log *zap.Logger, cfg aliyun.Config, ready func(addr string)) int {
	render, err := o.daemonConfig()
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}

	reg := prometheus.NewRegistry()
	bi := buildInfo()
	m, err := metrics.New(reg, metrics.BuildInfo{Version: bi.version, Revision: bi.revision, GoVersion: bi.goVersion})
	if err != nil {
		log.Error("metrics registration failed", zap.Error(err))
		return exitFailure
	}
	disc, r, err := newDiscoverer(ctx, cfg, log, m)
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	store := &daemon.Store{}
	var published func(*daemon.Snapshot, bool)
	if o.cacheFile != "" {
		pc := &peerCache{path: o.cacheFile, key: r.cfg.CacheKey(), render: render, log: log.Named("cache")}
		if snap := pc.load(); snap != nil {
			// Served before the listener opens: a node rebooting with the
			// API unreachable has its hints at once.
			store.Publish(snap)
		}
		published = pc.published
	}
	// SIGHUP is caught from here on, before "starting" is logged: one that
	// arrives early must not take the default action and end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	trigger := make(chan struct{})
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		log.Error("cannot listen", zap.String("listen", o.listen), zap.Error(err))
		return exitFailure
	}
	log.Info("starting",
		zap.String("version", bi.version),
		zap.String("listen", ln.Addr().String()),
		zap.String("credential_source", disc.CredentialSource()),
		zap.String("self_instance_id", r.selfID),
		zap.Duration("refresh_interval", o.refreshInterval),
		zap.Duration("max_stale", o.maxStale),
		zap.String("cache_file", o.cacheFile),
		settingsField(r.cfg))
	if ready != nil {
		ready(ln.Addr().String())
	}

	handler := daemon.NewHandler(daemon.ServerOptions{
		Store:    store,
		MaxStale: o.maxStale,
		Metrics:  promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Log:      log.Named("http"),
	})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	wg.Go(func() {
		serveErr = daemon.Serve(ctx, ln, handler, o.shutdownTimeout, log.Named("http"))
		cancel() // a server that stopped on its own stops the loop too
	})
	wg.Go(func() {
		// The discoverer is not safe for concurrent use: the check runs
		// before the loop, in its goroutine, while HTTP already serves.
		startupCheck(ctx, disc, &r.cfg, log.Named("aliyun"))
		_ = daemon.RunLoop(ctx, daemon.LoopOptions{
			Discoverer: disc,
			Store:      store,
			Region:     r.cfg.Region,
			Render:     render,
			Interval:   o.refreshInterval,
			Timeout:    o.refreshTimeout,
			Observer:   m,
			Log:        log.Named("refresh"),
			Trigger:    trigger,
			Published:  published,
		})
	})
	wg.Go(func() {
		<-ctx.Done()
		log.Info("stopping; a second SIGTERM or SIGINT ends the process at once", zap.Duration("drain_timeout", o.shutdownTimeout))
	})
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				select {
				case trigger <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	})
	wg.Wait()
	if serveErr != nil {
		log.Error("HTTP server failed", zap.Error(serveErr))
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// settingsField logs the effective discovery settings, secrets redacted.
func settingsField(cfg aliyun.Config) zap.Field {
	red := cfg.Redacted()
	keys := make([]string, 0, len(red))
	for k := range red {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return zap.Object("settings", zapcore.ObjectMarshalerFunc(func(enc zapcore.ObjectEncoder) error {
		for _, k := range keys {
			enc.AddString(k, red[k])
		}
		return nil
	}))
}

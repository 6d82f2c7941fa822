package main

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/daemon"
)

// checkTimeout bounds the permission dry run at run start.
const checkTimeout = 30 * time.Second

// cmdCheck is `joinhintd check`: a DescribeInstances dry run that tells
// apart no permission, a bad key or secret, an expired STS token, an unknown
// region and a network failure. Exit 0 when discovery would work, 1 when
// not, 2 on bad configuration.
func cmdCheck(ctx context.Context, env environ, args []string) int {
	o := newFlagSet("check", env.stderr)
	if code := parseFlags(o, env, args); code >= 0 {
		return code
	}
	return oneShot(ctx, env, o, func(ctx context.Context, disc *aliyun.Discoverer, r resolved) int {
		if err := disc.Check(ctx); err != nil {
			fmt.Fprintf(env.stderr, "joinhintd: check failed: %s\n", aliyun.Explain(err, &r.cfg))
			return exitFailure
		}
		fmt.Fprintf(env.stdout, "ok: credentials from %s may call ecs:DescribeInstances in %s at %s://%s\n",
			disc.CredentialSource(), r.cfg.Region, r.cfg.EndpointScheme, r.cfg.EndpointHost())
		return exitOK
	})
}

// startupCheck runs the permission dry run once at run start and logs what
// it found. It never stops the daemon: the refresh loop retries, and a
// cached peer set may still be served.
func startupCheck(ctx context.Context, disc *aliyun.Discoverer, cfg *aliyun.Config, log *zap.Logger) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	err := disc.Check(ctx)
	switch {
	case err == nil:
		log.Info("permission check passed", zap.String("credential_source", disc.CredentialSource()))
	case daemon.ReasonOf(err) == daemon.ReasonAuth:
		log.Error("permission check failed; discovery cannot work until this is fixed",
			zap.String("advice", aliyun.Explain(err, cfg)), zap.Error(err))
	default:
		log.Warn("permission check did not complete", zap.String("advice", aliyun.Explain(err, cfg)), zap.Error(err))
	}
}

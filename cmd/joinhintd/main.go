// Command joinhintd finds the Vault (or OpenBao) servers of one Raft cluster
// on Alibaba Cloud ECS by tag and serves them locally as join hints.
//
// This package is wiring only: flags and environment to configuration, the
// logger, the metrics registry, subcommands and signals.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, as design.md's command table gives them.
const (
	exitOK      = 0
	exitFailure = 1
	exitConfig  = 2
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		// The first signal stops gracefully. Handing the signals back to
		// their default action makes a second one end the process at once.
		signal.Stop(sigs)
		cancel()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// commandNames lists the subcommands for usage and error messages.
const commandNames = "run, discover, check, demo, version"

// run dispatches to a subcommand and returns the process exit code. ctx is
// cancelled by SIGTERM or SIGINT.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "joinhintd: missing command: want one of %s (joinhintd COMMAND -h for its flags)\n", commandNames)
		return exitConfig
	}
	env := environ{stdout: stdout, stderr: stderr}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		return cmdRun(ctx, env, rest)
	case "discover":
		return cmdDiscover(ctx, env, rest)
	case "check":
		return cmdCheck(ctx, env, rest)
	case "demo":
		return cmdDemo(ctx, env, rest)
	case "version":
		return cmdVersion(env, rest)
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "usage: joinhintd COMMAND [flags]\ncommands: %s\nrun joinhintd COMMAND -h for a command's flags\n", commandNames)
		return exitOK
	default:
		fmt.Fprintf(stderr, "joinhintd: unknown command %q: want one of %s\n", cmd, commandNames)
		return exitConfig
	}
}

// environ is what a subcommand may write to.
type environ struct {
	stdout, stderr io.Writer
}

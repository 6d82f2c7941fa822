package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// build describes this binary, from the module and VCS data Go embeds.
type build struct {
	version, revision, goVersion string
}

func buildInfo() build {
	b := build{version: "devel", revision: "unknown", goVersion: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		b.version = v
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			b.revision = s.Value
		}
	}
	return b
}

// cmdVersion is `joinhintd version`.
func cmdVersion(env environ, args []string) int {
	if len(args) > 0 {
		fmt.Fprintf(env.stderr, "joinhintd: version takes no arguments, got %q\n", args[0])
		return exitConfig
	}
	b := buildInfo()
	fmt.Fprintf(env.stdout, "joinhintd %s (revision %s, %s)\n", b.version, b.revision, b.goVersion)
	return exitOK
}

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/daemon"
)

// cacheFileName is the cache file's name under systemd's StateDirectory.
const cacheFileName = "peers.cache"

// cacheOff is the --cache-file value that turns the cache off, also under
// systemd.
const cacheOff = "off"

// cachePath resolves --cache-file to the path to use, "" for none: "off" is
// none; "" is $STATE_DIRECTORY/peers.cache when systemd set STATE_DIRECTORY
// (StateDirectory= in the unit; the first directory when it lists several),
// else none. The file's directory must exist: joinhintd never creates it.
func cachePath(flag string, getenv func(string) string) (string, error) {
	path := flag
	switch {
	case flag == cacheOff:
		return "", nil
	case flag == "":
		dirs := getenv("STATE_DIRECTORY")
		if dirs == "" {
			return "", nil
		}
		dir, _, _ := strings.Cut(dirs, ":")
		path = filepath.Join(dir, cacheFileName)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return "", fmt.Errorf("invalid --cache-file %s: a directory; want a file path such as %s", path, filepath.Join(path, cacheFileName))
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return "", fmt.Errorf("invalid --cache-file %s: its directory %s: %w", path, dir, errors.Unwrap(err))
	case !fi.IsDir():
		return "", fmt.Errorf("invalid --cache-file %s: %s is not a directory", path, dir)
	}
	return path, nil
}

// peerCache loads and saves the peer set for one cluster (key) at path.
type peerCache struct {
	path   string
	key    daemon.CacheKey
	render daemon.RenderOptions
	log    *zap.Logger
}

// load returns the cached snapshot to serve at start, or nil. A missing file
// is the first start; any other problem is a warning, never fatal, and
// nothing of that file is served.
func (c *peerCache) load() *daemon.Snapshot {
	snap, err := daemon.LoadCache(c.path, c.key, c.render)
	switch {
	case errors.Is(err, daemon.ErrNoCache):
		c.log.Info("no cache file yet; the first live refresh writes it", zap.String("cache_file", c.path))
		return nil
	case err != nil:
		c.log.Warn("cache file ignored; waiting for a live refresh", zap.String("cache_file", c.path), zap.Error(err))
		return nil
	}
	c.log.Info("serving the cached peer set until a live refresh succeeds",
		zap.String("cache_file", c.path),
		zap.Uint64("revision", snap.Revision),
		zap.Int("peers", len(snap.Peers)),
		zap.Time("updated_at", snap.UpdatedAt))
	return snap
}

// published is the refresh loop's Published hook: a changed set is written
// to the file. A failed write is logged and the daemon goes on serving.
func (c *peerCache) published(snap *daemon.Snapshot, changed bool) {
	if !changed {
		return
	}
	if len(snap.Peers) == 0 {
		// DescribeInstances answers a caller that lost its permission with
		// an empty list: keep the last set that had peers for the next
		// start rather than trade it for one that cannot bootstrap.
		c.log.Info("empty peer set not cached; the cache file keeps the last set with peers", zap.String("cache_file", c.path))
		return
	}
	if err := daemon.SaveCache(c.path, c.key, snap); err != nil {
		c.log.Warn("cache file not written; the served peer set is unaffected", zap.String("cache_file", c.path), zap.Error(err))
		return
	}
	c.log.Debug("cache file written", zap.String("cache_file", c.path), zap.Uint64("revision", snap.Revision))
}

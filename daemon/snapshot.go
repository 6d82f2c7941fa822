package daemon

import (
	"slices"
	"sync/atomic"
	"time"
)

// Sources of a Snapshot, as served in the peers document's "source" field.
const (
	SourceECS   = "ecs"
	SourceCache = "cache"
)

// RenderOptions shape the Vault retry_join stanzas rendered into a Snapshot.
type RenderOptions struct {
	VaultScheme          string // "https" or "http"
	VaultPort            int
	LeaderCACertFile     string
	LeaderTLSServerName  string
	LeaderClientCertFile string
	LeaderClientKeyFile  string
}

// Snapshot is one published peer set with every HTTP body rendered up front.
// It is immutable once built: readers share it without locks, and a new
// refresh publishes a new Snapshot instead of changing this one.
type Snapshot struct {
	Revision  uint64
	UpdatedAt time.Time // last successful refresh
	ChangedAt time.Time // when the peer set last changed
	Source    string    // SourceECS or SourceCache
	Region    string
	Peers     []Peer // sorted by InstanceID; never modified

	bodies bodies
}

// bodies are the pre-rendered answers of the HTTP API.
type bodies struct {
	peersJSON  [2][]byte // index 0: "stale": false, 1: "stale": true
	text       []byte    // one address a line
	goDiscover []byte    // one line, space separated
	retryHCL   []byte
	retryJSON  []byte
}

// NewSnapshot builds the Snapshot that follows prev (nil for the first) after a
// successful refresh at now that found peers. The revision grows by one only
// when the peer set differs from prev's; changed reports whether it did.
// peers must be sorted by InstanceID and is not copied: the caller hands it over.
func NewSnapshot(prev *Snapshot, peers []Peer, region, source string, now time.Time, ro RenderOptions) (snap *Snapshot, changed bool, err error) {
	s := &Snapshot{
		Revision:  1,
		UpdatedAt: now.UTC(),
		ChangedAt: now.UTC(),
		Source:    source,
		Region:    region,
		Peers:     peers,
	}
	changed = true
	if prev != nil {
		s.Revision = prev.Revision
		s.ChangedAt = prev.ChangedAt
		if slices.Equal(prev.Peers, peers) {
			changed = false
		} else {
			s.Revision++
			s.ChangedAt = now.UTC()
		}
	}
	if !changed && prev.Source == source {
		// The set is the same: only the peers document carries times, so
		// the other bodies are shared with prev.
		s.bodies = prev.bodies
		s.bodies.peersJSON, err = renderPeersDocuments(s)
	} else {
		s.bodies, err = renderBodies(s, ro)
	}
	if err != nil {
		return nil, false, err
	}
	return s, changed, nil
}

// Diff returns the peers in next that are not in prev (added) and those in
// prev that are not in next (removed), comparing whole Peer values by
// instance id. Both inputs must be sorted by InstanceID.
func Diff(prev, next []Peer) (added, removed []Peer) {
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next) || (i < len(prev) && prev[i].InstanceID < next[j].InstanceID):
			removed = append(removed, prev[i])
			i++
		case i == len(prev) || next[j].InstanceID < prev[i].InstanceID:
			added = append(added, next[j])
			j++
		default:
			if prev[i] != next[j] {
				removed = append(removed, prev[i])
				added = append(added, next[j])
			}
			i++
			j++
		}
	}
	return added, removed
}

// Store holds the published Snapshot. Load and Publish are safe for
// concurrent use; readers never block.
type Store struct {
	cur atomic.Pointer[Snapshot]
}

// Load returns the current Snapshot, or nil before the first one.
func (s *Store) Load() *Snapshot { return s.cur.Load() }

// Publish makes snap the current Snapshot.
func (s *Store) Publish(snap *Snapshot) { s.cur.Store(snap) }

// PeersJSON returns the peers document, with "stale" as given.
func (s *Snapshot) PeersJSON(stale bool) []byte {
	if stale {
		return s.bodies.peersJSON[1]
	}
	return s.bodies.peersJSON[0]
}

// Text returns the addresses, one a line.
func (s *Snapshot) Text() []byte { return s.bodies.text }

// GoDiscover returns the addresses on one line, space separated.
func (s *Snapshot) GoDiscover() []byte { return s.bodies.goDiscover }

package daemon

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// The cache file keeps the last good peer set across restarts, so that a node
// that reboots while the ECS API is unreachable can still hand Vault its join
// hints. It is written atomically (a crash leaves either the old file or the
// new one, never a mix) and read back only if it is intact, was written for
// the same region and filter, and holds only well-formed peers. Anything else
// is refused with an error: a cache that is not trusted is never served.
//
// The file is JSON. Its last member, "sha256", is the SHA-256 of every byte
// of the file before that member, in lower-case hex, so that a truncated or
// damaged file is caught even when it still parses:
//
//	{
//	  "format": "joinhintd-cache",
//	  "version": 1,
//	  "key": {"region": "cn-hangzhou", "filter": "..."},
//	  "revision": 3,
//	  "updated_at": "2026-12-03T19:00:00.123456789Z",
//	  "changed_at": "2026-12-03T18:41:10Z",
//	  "region": "cn-hangzhou",
//	  "peers": [ ... Peer objects, as in the peers document ... ],
//	  "sha256": "<64 hex digits>"
//	}
//
// (encoding/json's indented layout; the checksum covers the exact bytes.)

// ErrNoCache reports that there is no cache file yet. LoadCache's error wraps
// it together with fs.ErrNotExist; it is the normal state of a first start,
// not a warning.
var ErrNoCache = errors.New("no cache file")

// ErrCacheInvalid is wrapped by LoadCache's error for a file that is not a
// sound cache: too large, truncated, damaged (checksum mismatch), not JSON,
// another format or version, or holding values that fail validation.
var ErrCacheInvalid = errors.New("invalid cache file")

// ErrCacheForeign is wrapped by LoadCache's error for an intact cache file
// that was written for another region or filter.
var ErrCacheForeign = errors.New("cache file written for another cluster")

// CacheKey identifies what a cache file answers: a file written under another
// key is foreign and never loaded.
type CacheKey struct {
	Region string `json:"region"`
	// Filter is the canonical form of everything that selects the peers:
	// tags, VPC id, zone id and address type. The caller builds it and must
	// make it canonical, e.g. with the tags sorted and each part named, so
	// that the same settings always give the same string and different
	// settings different strings. It is compared byte for byte.
	Filter string `json:"filter"`
}

const (
	cacheFormat  = "joinhintd-cache"
	cacheVersion = 1

	// maxCacheFileSize is the largest cache file LoadCache reads. A
	// thousand peers take about 350 KiB.
	maxCacheFileSize = 8 << 20

	// The checksum member that ends every cache file.
	sealHead = ",\n  \"sha256\": \""
	sealTail = "\"\n}\n"
	sealLen  = len(sealHead) + 2*sha256.Size + len(sealTail)

	// Temporary files are named tempPrefix + the cache file's name + "-" +
	// 16 hex digits + tempSuffix, in the cache file's directory.
	tempPrefix = ".joinhintd-cache-"
	tempSuffix = ".tmp"
)

// cacheFile is the layout of a cache file.
type cacheFile struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	Key       CacheKey  `json:"key"`
	Revision  uint64    `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
	ChangedAt time.Time `json:"changed_at"`
	Region    string    `json:"region"`
	Peers     []Peer    `json:"peers"`
	// SHA256 is only read: encoding leaves it out and seal appends it.
	SHA256 string `json:"sha256,omitempty"`
}

// SaveCache writes snap to path atomically under key: it writes a temporary
// file (mode 0600) in path's directory, fsyncs and closes it, renames it over
// path and fsyncs the directory. A crash at any point leaves path holding
// either its previous contents or the new ones in full. Temporary files that
// an earlier crash left behind are removed first.
//
// snap must be one LoadCache would accept: revision at least 1, both times
// set, its region that of key, and peers sorted by unique instance id, each
// with an IP address. SaveCache does not create path's directory.
//
// SaveCache is not safe for concurrent use on the same path (one call could
// remove the other's temporary file); the refresh loop calls it from its own
// goroutine.
func SaveCache(path string, key CacheKey, snap *Snapshot) error {
	return saveCache(path, key, snap, nil)
}

// saveStep is a step of the write path, after which tests inject a crash.
type saveStep int

const (
	stepCreate  saveStep = iota // the temporary file exists, empty
	stepWrite                   // its contents are written
	stepSync                    // and fsynced
	stepClose                   // and it is closed
	stepRename                  // it has been renamed over the cache file
	stepSyncDir                 // the directory is fsynced: done
	numSaveSteps
)

func (s saveStep) String() string {
	return [...]string{"create", "write", "sync", "close", "rename", "sync-dir"}[s]
}

// crashHook is called after each step of saveCache with the temporary file's
// path. An error from it stops saveCache at once, as a crash would: nothing is
// cleaned up and the temporary file stays (it is only closed, as the kernel
// would close it).
type crashHook func(step saveStep, tempPath string) error

func saveCache(path string, key CacheKey, snap *Snapshot, hook crashHook) error {
	data, err := encodeCache(key, snap)
	if err != nil {
		return fmt.Errorf("save cache file %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("save cache file %q: no file name", path)
	}
	removeTempFiles(dir, base)

	f, err := createTemp(dir, base)
	if err != nil {
		return fmt.Errorf("save cache file %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	crashed := func(step saveStep) error {
		if hook == nil {
			return nil
		}
		if err := hook(step, tmp); err != nil {
			if !closed {
				f.Close()
			}
			return fmt.Errorf("save cache file %s: crash after %s: %w", path, step, err)
		}
		return nil
	}
	// fail undoes a step that failed for real, so no temporary file stays.
	fail := func(err error) error {
		if !closed {
			f.Close()
		}
		os.Remove(tmp)
		return fmt.Errorf("save cache file %s: %w", path, err)
	}

	if err := crashed(stepCreate); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := crashed(stepWrite); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := crashed(stepSync); err != nil {
		return err
	}
	closed = true
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := crashed(stepClose); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	if err := crashed(stepRename); err != nil {
		return err
	}
	// Without this the rename may not survive a power loss; the file it
	// leaves is whole either way, so a failure here loses only the update.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("save cache file %s: sync directory: %w", path, err)
	}
	return crashed(stepSyncDir)
}

// encodeCache renders the cache file of snap under key, checksum included.
func encodeCache(key CacheKey, snap *Snapshot) ([]byte, error) {
	if snap == nil {
		return nil, errors.New("no snapshot")
	}
	if snap.Region != key.Region {
		return nil, fmt.Errorf("snapshot region %q differs from the cache key's %q", snap.Region, key.Region)
	}
	if err := checkCacheContent(snap.Revision, snap.UpdatedAt, snap.ChangedAt, snap.Peers); err != nil {
		return nil, err
	}
	peers := snap.Peers
	if peers == nil {
		peers = []Peer{}
	}
	body, err := json.MarshalIndent(cacheFile{
		Format:    cacheFormat,
		Version:   cacheVersion,
		Key:       key,
		Revision:  snap.Revision,
		UpdatedAt: snap.UpdatedAt.UTC(),
		ChangedAt: snap.ChangedAt.UTC(),
		Region:    snap.Region,
		Peers:     peers,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	// Drop the closing "\n}" so that the checksum member can follow.
	body, ok := bytes.CutSuffix(body, []byte("\n}"))
	if !ok {
		return nil, errors.New("unexpected JSON layout")
	}
	return seal(body), nil
}

// seal appends the checksum member, and the end of the object, to body.
func seal(body []byte) []byte {
	sum := sha256.Sum256(body)
	out := make([]byte, 0, len(body)+sealLen)
	out = append(out, body...)
	out = append(out, sealHead...)
	out = hex.AppendEncode(out, sum[:])
	return append(out, sealTail...)
}

// createTemp creates a new, empty temporary file for the cache file base in
// dir, readable and writable by the owner only.
func createTemp(dir, base string) (*os.File, error) {
	for range 100 {
		name := fmt.Sprintf("%s%s-%016x%s", tempPrefix, base, rand.Uint64(), tempSuffix)
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no free temporary file name")
}

// isTempFile reports whether name is one of createTemp's names for base.
func isTempFile(name, base string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix+base+"-")
	if !ok {
		return false
	}
	digits, ok := strings.CutSuffix(rest, tempSuffix)
	if !ok || len(digits) != 16 {
		return false
	}
	_, err := hex.DecodeString(digits)
	return err == nil
}

// removeTempFiles removes the temporary files of base that a crashed save
// left in dir. It is best effort: a file it cannot remove does no harm, as
// LoadCache never reads one.
func removeTempFiles(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type().IsRegular() && isTempFile(e.Name(), base) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// syncDir fsyncs directory dir, making a rename in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// LoadCache reads the cache file at path and returns its peer set as a
// Snapshot with Source SourceCache and the saved revision, times, region and
// peers, every body rendered with ro. The Snapshot is new and the caller's.
//
// A missing file gives an error wrapping both ErrNoCache and fs.ErrNotExist.
// A file that is too large, truncated, damaged, of another format or version,
// or holds invalid values gives one wrapping ErrCacheInvalid; one written for
// another region or filter, ErrCacheForeign. Either way nothing is returned to
// serve. Temporary files of an interrupted SaveCache are never read.
func LoadCache(path string, key CacheKey, ro RenderOptions) (*Snapshot, error) {
	data, err := readCacheFile(path)
	if err != nil {
		return nil, err
	}
	snap, err := decodeCache(data, key, ro)
	if err != nil {
		return nil, fmt.Errorf("cache file %s: %w", path, err)
	}
	return snap, nil
}

// readCacheFile returns the contents of path, if it is a regular file of at
// most maxCacheFileSize bytes.
func readCacheFile(path string) ([]byte, error) {
	// Stat first, so that a FIFO or device at path is refused, not opened.
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNoCache, err)
	}
	if err != nil {
		return nil, fmt.Errorf("read cache file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cache file %s: %w: not a regular file (%s)", path, ErrCacheInvalid, fi.Mode().Type())
	}
	if fi.Size() > maxCacheFileSize {
		return nil, fmt.Errorf("cache file %s: %w: %d bytes, more than the limit of %d", path, ErrCacheInvalid, fi.Size(), maxCacheFileSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read cache file: %w", err)
	}
	defer f.Close()
	// The file may have grown since Stat.
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read cache file: %w", err)
	}
	if len(data) > maxCacheFileSize {
		return nil, fmt.Errorf("cache file %s: %w: more than the limit of %d bytes", path, ErrCacheInvalid, maxCacheFileSize)
	}
	return data, nil
}

// decodeCache checks data as a cache file for key and returns its Snapshot.
func decodeCache(data []byte, key CacheKey, ro RenderOptions) (*Snapshot, error) {
	if err := checkSeal(data); err != nil {
		// Another format or a newer version may end differently: if the
		// file says so, report that rather than only the checksum.
		if herr := checkHead(data); herr != nil {
			return nil, herr
		}
		return nil, err
	}
	var cf cacheFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cf); err != nil {
		// A newer version may have fields this one does not know.
		if herr := checkHead(data); herr != nil {
			return nil, herr
		}
		return nil, fmt.Errorf("%w: %w", ErrCacheInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrCacheInvalid)
	}
	if err := (cacheHead{cf.Format, cf.Version}).check(); err != nil {
		return nil, err
	}
	if cf.Key.Region != key.Region {
		return nil, fmt.Errorf("%w: written for region %q, not %q", ErrCacheForeign, cf.Key.Region, key.Region)
	}
	if cf.Key.Filter != key.Filter {
		return nil, fmt.Errorf("%w: written for filter %q, not %q", ErrCacheForeign, cf.Key.Filter, key.Filter)
	}
	if cf.Region != key.Region {
		return nil, fmt.Errorf("%w: holds a peer set of region %q under the key of region %q", ErrCacheInvalid, cf.Region, key.Region)
	}
	if err := checkCacheContent(cf.Revision, cf.UpdatedAt, cf.ChangedAt, cf.Peers); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCacheInvalid, err)
	}
	s := &Snapshot{
		Revision:  cf.Revision,
		UpdatedAt: cf.UpdatedAt.UTC(),
		ChangedAt: cf.ChangedAt.UTC(),
		Source:    SourceCache,
		Region:    cf.Region,
		Peers:     cf.Peers,
	}
	var err error
	if s.bodies, err = renderBodies(s, ro); err != nil {
		return nil, err
	}
	return s, nil
}

// cacheHead is the part of a cache file that says what it is.
type cacheHead struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// checkHead reports a parsable file that names another format or version;
// it returns nil for a file that does not parse or does name this one.
func checkHead(data []byte) error {
	var h cacheHead
	if json.Unmarshal(data, &h) != nil {
		return nil
	}
	return h.check()
}

// check reports whether h names this format and version.
func (h cacheHead) check() error {
	if h.Format != cacheFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrCacheInvalid, h.Format, cacheFormat)
	}
	if h.Version != cacheVersion {
		return fmt.Errorf("%w: format version %d, this joinhintd reads version %d", ErrCacheInvalid, h.Version, cacheVersion)
	}
	return nil
}

// checkSeal reports whether data ends in the checksum member and the
// checksum matches everything before it.
func checkSeal(data []byte) error {
	n := len(data)
	if n < sealLen || !bytes.HasPrefix(data[n-sealLen:], []byte(sealHead)) || !bytes.HasSuffix(data, []byte(sealTail)) {
		return fmt.Errorf("%w: no checksum at the end: truncated, or not a cache file", ErrCacheInvalid)
	}
	body := data[:n-sealLen]
	sum := sha256.Sum256(body)
	if !bytes.Equal(data[n-sealLen+len(sealHead):n-len(sealTail)], hex.AppendEncode(nil, sum[:])) {
		return fmt.Errorf("%w: checksum mismatch: the file was damaged or changed after it was written", ErrCacheInvalid)
	}
	return nil
}

// checkCacheContent checks what a cache file holds: a revision, both times
// with the change not after the update, and valid peers sorted by unique
// instance id.
func checkCacheContent(revision uint64, updatedAt, changedAt time.Time, peers []Peer) error {
	if revision == 0 {
		return errors.New("revision 0")
	}
	if updatedAt.IsZero() || changedAt.IsZero() {
		return errors.New("updated_at or changed_at not set")
	}
	for _, t := range [...]time.Time{updatedAt, changedAt} {
		// Outside these years a time has no RFC 3339 form to save it in.
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("time %s out of range", t.UTC())
		}
	}
	if changedAt.After(updatedAt) {
		return fmt.Errorf("changed_at %s after updated_at %s",
			changedAt.UTC().Format(time.RFC3339Nano), updatedAt.UTC().Format(time.RFC3339Nano))
	}
	for i := range peers {
		if err := checkCachedPeer(&peers[i]); err != nil {
			return fmt.Errorf("peer %d: %w", i, err)
		}
		if i > 0 && peers[i-1].InstanceID >= peers[i].InstanceID {
			return fmt.Errorf("peer %d: instance id %q not after %q: peers must be sorted by unique instance id",
				i, peers[i].InstanceID, peers[i-1].InstanceID)
		}
	}
	return nil
}

// checkCachedPeer checks one peer: an instance id of printable characters,
// an IP address, and the other address fields empty or addresses of their
// kind.
func checkCachedPeer(p *Peer) error {
	if p.InstanceID == "" {
		return errors.New("empty instance id")
	}
	if !utf8.ValidString(p.InstanceID) || strings.ContainsFunc(p.InstanceID, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("instance id %q holds whitespace, control characters or invalid UTF-8", p.InstanceID)
	}
	if p.Address == "" {
		return fmt.Errorf("instance %s: empty address", p.InstanceID)
	}
	for _, f := range [...]struct {
		name, value string
		ok          func(netip.Addr) bool
	}{
		{"address", p.Address, func(netip.Addr) bool { return true }},
		{"private_ipv4", p.PrivateIPv4, netip.Addr.Is4},
		{"public_ipv4", p.PublicIPv4, netip.Addr.Is4},
		{"ipv6", p.IPv6, netip.Addr.Is6},
	} {
		if f.value == "" {
			continue
		}
		a, err := netip.ParseAddr(f.value)
		if err != nil || a.Zone() != "" || !f.ok(a) {
			return fmt.Errorf("instance %s: %s %q is not an IP address of its kind", p.InstanceID, f.name, f.value)
		}
	}
	return nil
}

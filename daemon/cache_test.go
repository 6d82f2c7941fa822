package daemon

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testKey is the cache key of testSnapshot's peer set.
func testKey() CacheKey {
	return CacheKey{Region: "cn-hangzhou", Filter: "addr_type=private_v4;tag=vault=cluster1;vpc_id=;zone_id="}
}

// nextSnapshot returns the snapshot a refresh that found peers at now would
// publish after prev.
func nextSnapshot(t testing.TB, prev *Snapshot, peers []Peer, now time.Time) *Snapshot {
	t.Helper()
	s, _, err := NewSnapshot(prev, slices.Clone(peers), "cn-hangzhou", SourceECS, now, testTLS())
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

// mustSave saves snap under testKey at path.
func mustSave(t testing.TB, path string, snap *Snapshot) {
	t.Helper()
	if err := SaveCache(path, testKey(), snap); err != nil {
		t.Fatalf("SaveCache: %v", err)
	}
}

// encodeTestCache encodes snap as encodeCache does, without its checks.
func encodeTestCache(t testing.TB, cf cacheFile) []byte {
	t.Helper()
	body, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutSuffix(body, []byte("\n}"))
	if !ok {
		t.Fatalf("unexpected layout %q", body)
	}
	return seal(body)
}

// cacheFileOf is the cacheFile encodeCache writes for snap under testKey.
func cacheFileOf(snap *Snapshot) cacheFile {
	return cacheFile{
		Format: cacheFormat, Version: cacheVersion, Key: testKey(),
		Revision: snap.Revision, UpdatedAt: snap.UpdatedAt, ChangedAt: snap.ChangedAt,
		Region: snap.Region, Peers: slices.Clone(snap.Peers),
	}
}

// sameContent reports how got differs from want in what a cache file keeps.
func sameContent(got, want *Snapshot) error {
	switch {
	case got.Revision != want.Revision:
		return fmt.Errorf("revision %d, want %d", got.Revision, want.Revision)
	case !got.UpdatedAt.Equal(want.UpdatedAt) || !got.ChangedAt.Equal(want.ChangedAt):
		return fmt.Errorf("times %v/%v, want %v/%v", got.UpdatedAt, got.ChangedAt, want.UpdatedAt, want.ChangedAt)
	case got.Region != want.Region:
		return fmt.Errorf("region %q, want %q", got.Region, want.Region)
	case !slices.Equal(got.Peers, want.Peers):
		return fmt.Errorf("peers %v, want %v", got.Peers, want.Peers)
	case got.Source != SourceCache:
		return fmt.Errorf("source %q, want %q", got.Source, SourceCache)
	}
	return nil
}

// tempFiles lists the temporary cache files in dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestCacheRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			orig := testSnapshot(t, tc.peers, tc.ro)
			dir := t.TempDir()
			path := filepath.Join(dir, "peers.cache")
			if err := SaveCache(path, testKey(), orig); err != nil {
				t.Fatalf("SaveCache: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o600 {
				t.Errorf("mode %v, want -rw-------", fi.Mode())
			}
			if left := tempFiles(t, dir); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}

			got, err := LoadCache(path, testKey(), tc.ro)
			if err != nil {
				t.Fatalf("LoadCache: %v", err)
			}
			if err := sameContent(got, orig); err != nil {
				t.Fatal(err)
			}
			// Every body is the original's; the peers document differs only
			// in its source.
			for _, stale := range []bool{false, true} {
				want := bytes.Replace(orig.PeersJSON(stale), []byte(`"source": "ecs"`), []byte(`"source": "cache"`), 1)
				if !bytes.Equal(got.PeersJSON(stale), want) {
					t.Errorf("peers document (stale %v):\n%s\nwant\n%s", stale, got.PeersJSON(stale), want)
				}
			}
			for name, pair := range map[string][2][]byte{
				"text":            {got.Text(), orig.Text()},
				"go-discover":     {got.GoDiscover(), orig.GoDiscover()},
				"retry-join hcl":  {got.bodies.retryHCL, orig.bodies.retryHCL},
				"retry-join json": {got.bodies.retryJSON, orig.bodies.retryJSON},
			} {
				if !bytes.Equal(pair[0], pair[1]) {
					t.Errorf("%s:\n%s\nwant\n%s", name, pair[0], pair[1])
				}
			}

			// The first live refresh after a restart carries on from the
			// cached revision: the same set keeps it, now from ECS.
			live, changed, err := NewSnapshot(got, slices.Clone(tc.peers), "cn-hangzhou", SourceECS, testT1.Add(time.Hour), tc.ro)
			if err != nil || changed {
				t.Fatalf("NewSnapshot after cache: changed %v, %v", changed, err)
			}
			if live.Revision != orig.Revision || !live.ChangedAt.Equal(orig.ChangedAt) {
				t.Errorf("live revision %d changed %v, want %d %v", live.Revision, live.ChangedAt, orig.Revision, orig.ChangedAt)
			}
			if !bytes.Contains(live.PeersJSON(false), []byte(`"source": "ecs"`)) {
				t.Error("live snapshot after the cache still says source cache")
			}
		})
	}
}

// TestCacheGolden pins the file format: a change to it shows here, and the
// committed file of this version must keep loading.
func TestCacheGolden(t *testing.T) {
	orig := testSnapshot(t, testPeers(), testTLS())
	data, err := encodeCache(testKey(), orig)
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/cache/v1.json"
	checkGolden(t, path, data)

	got, err := LoadCache(path, testKey(), testTLS())
	if err != nil {
		t.Fatalf("LoadCache(%s): %v", path, err)
	}
	if err := sameContent(got, orig); err != nil {
		t.Fatal(err)
	}

	// The checksum is the SHA-256 of every byte before its member.
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(data, []byte(`,`+"\n"+`  "sha256"`))
	sum := sha256.Sum256(data[:i])
	if doc["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %v, want %x", doc["sha256"], sum)
	}
	for _, k := range []string{"format", "version", "key", "revision", "updated_at", "changed_at", "region", "peers", "sha256"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in the file", k)
		}
	}
}

func TestLoadCacheMissing(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{
		filepath.Join(dir, "peers.cache"),
		filepath.Join(dir, "no-such-dir", "peers.cache"),
	} {
		snap, err := LoadCache(path, testKey(), testTLS())
		if snap != nil || !errors.Is(err, ErrNoCache) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("LoadCache(%s) = %v, %v; want ErrNoCache and fs.ErrNotExist", path, snap, err)
		}
	}
}

// TestLoadCacheTruncated cuts a good file at every length: none loads.
func TestLoadCacheTruncated(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "peers.cache")
	mustSave(t, path, testSnapshot(t, testPeers(), testTLS()))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		if err := os.WriteFile(path, data[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		snap, err := LoadCache(path, testKey(), testTLS())
		if snap != nil || !errors.Is(err, ErrCacheInvalid) {
			t.Fatalf("file cut to %d of %d bytes: LoadCache = %v, %v; want ErrCacheInvalid", n, len(data), snap, err)
		}
	}
	// The error says why.
	os.WriteFile(path, data[:len(data)/2], 0o600)
	if _, err := LoadCache(path, testKey(), testTLS()); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("error for a half file: %v; want it to say truncated", err)
	}
}

// TestLoadCacheBitFlips flips every bit of a good file in turn: none loads.
// It runs decodeCache, which is LoadCache after reading the file.
func TestLoadCacheBitFlips(t *testing.T) {
	snap := testSnapshot(t, testPeers()[1:3], testTLS())
	data, err := encodeCache(testKey(), snap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeCache(data, testKey(), testTLS()); err != nil {
		t.Fatalf("the unchanged file: %v", err)
	}
	flipped := make([]byte, len(data))
	for i := range data {
		for bit := range 8 {
			copy(flipped, data)
			flipped[i] ^= 1 << bit
			if got, err := decodeCache(flipped, testKey(), testTLS()); got != nil || !errors.Is(err, ErrCacheInvalid) {
				t.Fatalf("bit %d of byte %d (%q) flipped: %v, %v; want ErrCacheInvalid", bit, i, data[i], got, err)
			}
		}
	}

	// Through a file, with the reason.
	path := filepath.Join(t.TempDir(), "peers.cache")
	copy(flipped, data)
	flipped[bytes.Index(data, []byte("172.16.1.12"))+5] ^= 1 // 172.16.1.12 -> 172.17.1.12
	if err := os.WriteFile(path, flipped, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCache(path, testKey(), testTLS()); !errors.Is(err, ErrCacheInvalid) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("LoadCache of a flipped address: %v; want a checksum mismatch", err)
	}
}

func TestLoadCacheForeign(t *testing.T) {
	path := filepath.Join(t.TempDir(), "peers.cache")
	mustSave(t, path, testSnapshot(t, testPeers(), testTLS()))
	for _, tc := range []struct {
		name, want string
		key        CacheKey
	}{
		{"region", `region "cn-hangzhou", not "cn-beijing"`, CacheKey{Region: "cn-beijing", Filter: testKey().Filter}},
		{"filter", `filter "addr_type=private_v4;tag=vault=cluster1;vpc_id=;zone_id=", not "addr_type=private_v4;tag=vault=cluster2;vpc_id=;zone_id="`,
			CacheKey{Region: "cn-hangzhou", Filter: strings.Replace(testKey().Filter, "cluster1", "cluster2", 1)}},
		{"empty key", `region "cn-hangzhou", not ""`, CacheKey{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap, err := LoadCache(path, tc.key, testTLS())
			if snap != nil || !errors.Is(err, ErrCacheForeign) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadCache = %v, %v; want ErrCacheForeign naming %s", snap, err, tc.want)
			}
		})
	}
}

// TestLoadCacheRejectsInvalidContent feeds files with a valid checksum but
// content SaveCache never writes: each is refused and says why.
func TestLoadCacheRejectsInvalidContent(t *testing.T) {
	base := cacheFileOf(testSnapshot(t, testPeers(), testTLS()))
	edit := func(f func(cf *cacheFile)) func(testing.TB) []byte {
		return func(t testing.TB) []byte {
			cf := base
			cf.Peers = slices.Clone(base.Peers)
			f(&cf)
			return encodeTestCache(t, cf)
		}
	}
	raw := func(s string) func(testing.TB) []byte {
		return func(testing.TB) []byte { return []byte(s) }
	}
	good := encodeTestCache(t, base)
	for _, tc := range []struct {
		name string
		data func(testing.TB) []byte
		want string
	}{
		{"empty file", raw(""), "truncated"},
		{"not JSON", raw(strings.Repeat("garbage ", 20)), "truncated"},
		{"other format", raw(`{"format": "something-else", "version": 1}`), `format "something-else"`},
		{"newer version", raw(`{"format": "joinhintd-cache", "version": 2, "peers": {}}` + "\n"), "format version 2"},
		{"newer version, sealed", edit(func(cf *cacheFile) { cf.Version = 2 }), "format version 2"},
		{"no format", edit(func(cf *cacheFile) { cf.Format = "" }), `format ""`},
		{"unknown field", func(t testing.TB) []byte {
			return seal(append(slices.Clone(good[:len(good)-sealLen]), ",\n  \"extra\": 1"...))
		}, `unknown field "extra"`},
		{"two values", func(t testing.TB) []byte {
			return seal(append(append(slices.Clone(good[:len(good)-sealLen]), "\n}\n"...), `{"x": 1`...))
		}, "data after the JSON object"},
		{"revision 0", edit(func(cf *cacheFile) { cf.Revision = 0 }), "revision 0"},
		{"no updated_at", edit(func(cf *cacheFile) { cf.UpdatedAt = time.Time{} }), "not set"},
		{"changed after updated", edit(func(cf *cacheFile) { cf.ChangedAt = cf.UpdatedAt.Add(time.Second) }), "after updated_at"},
		{"region differs from key", edit(func(cf *cacheFile) { cf.Region = "cn-beijing" }), `region "cn-beijing" under the key of region "cn-hangzhou"`},
		{"unsorted", edit(func(cf *cacheFile) { cf.Peers[1], cf.Peers[2] = cf.Peers[2], cf.Peers[1] }), "sorted"},
		{"duplicate", edit(func(cf *cacheFile) { cf.Peers[2] = cf.Peers[1] }), "unique"},
		{"empty instance id", edit(func(cf *cacheFile) { cf.Peers[0].InstanceID = "" }), "empty instance id"},
		{"instance id with newline", edit(func(cf *cacheFile) { cf.Peers[0].InstanceID = "i-a\nb" }), "whitespace"},
		{"empty address", edit(func(cf *cacheFile) { cf.Peers[1].Address = "" }), "empty address"},
		{"host name address", edit(func(cf *cacheFile) { cf.Peers[1].Address = "vault-2.example" }), `address "vault-2.example"`},
		{"address with a line break", edit(func(cf *cacheFile) { cf.Peers[1].Address = "10.0.0.1\n10.0.0.2" }), "not an IP address"},
		{"address with zone", edit(func(cf *cacheFile) { cf.Peers[2].Address = "fe80::1%eth0" }), "not an IP address"},
		{"IPv6 as private_ipv4", edit(func(cf *cacheFile) { cf.Peers[1].PrivateIPv4 = "2408::1" }), "private_ipv4"},
		{"bad public_ipv4", edit(func(cf *cacheFile) { cf.Peers[0].PublicIPv4 = "47.96.10.256" }), "public_ipv4"},
		{"IPv4 as ipv6", edit(func(cf *cacheFile) { cf.Peers[2].IPv6 = "10.0.0.1" }), "ipv6"},
		{"peers not a list", func(t testing.TB) []byte {
			body := bytes.Replace(good[:len(good)-sealLen], []byte(`"peers": [`), []byte(`"peers": 7, "x": [`), 1)
			return seal(body)
		}, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "peers.cache")
			if err := os.WriteFile(path, tc.data(t), 0o600); err != nil {
				t.Fatal(err)
			}
			snap, err := LoadCache(path, testKey(), testTLS())
			if snap != nil || !errors.Is(err, ErrCacheInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadCache = %v, %v; want ErrCacheInvalid saying %q", snap, err, tc.want)
			}
		})
	}
}

func TestLoadCacheRefusesOddFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadCache(dir, testKey(), testTLS()); !errors.Is(err, ErrCacheInvalid) || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("LoadCache of a directory: %v", err)
	}
	big := filepath.Join(dir, "big")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxCacheFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := LoadCache(big, testKey(), testTLS()); !errors.Is(err, ErrCacheInvalid) || !strings.Contains(err.Error(), "limit") {
		t.Errorf("LoadCache of a file over the limit: %v", err)
	}
}

func TestSaveCacheRefusesInvalidSnapshots(t *testing.T) {
	good := testSnapshot(t, testPeers(), testTLS())
	with := func(f func(s *Snapshot)) *Snapshot {
		s := *good
		s.Peers = slices.Clone(good.Peers)
		f(&s)
		return &s
	}
	for _, tc := range []struct {
		name string
		key  CacheKey
		snap *Snapshot
		want string
	}{
		{"nil", testKey(), nil, "no snapshot"},
		{"region not the key's", CacheKey{Region: "cn-beijing"}, good, `region "cn-hangzhou" differs`},
		{"unsorted", testKey(), with(func(s *Snapshot) { slices.Reverse(s.Peers) }), "sorted"},
		{"no address", testKey(), with(func(s *Snapshot) { s.Peers[1].Address = "" }), "empty address"},
		{"revision 0", testKey(), with(func(s *Snapshot) { s.Revision = 0 }), "revision 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "peers.cache")
			err := SaveCache(path, tc.key, tc.snap)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SaveCache = %v, want an error saying %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("SaveCache left %v", entries)
			}
		})
	}
}

// TestSaveCacheFailureLeavesNoTempFile makes the rename fail for real (the
// path is a directory): the temporary file goes, nothing else changes.
func TestSaveCacheFailureLeavesNoTempFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "peers.cache")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := SaveCache(path, testKey(), testSnapshot(t, testPeers(), testTLS())); err == nil {
		t.Fatal("SaveCache over a directory succeeded")
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := SaveCache(filepath.Join(dir, "no-such-dir", "peers.cache"), testKey(), testSnapshot(t, testPeers(), testTLS())); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SaveCache into a missing directory: %v", err)
	}
}

var errCrash = errors.New("injected crash")

// TestSaveCacheCrash crashes the write path after each of its steps, with
// and without an earlier good file: the cache then loads either whole old
// content (crash before the rename) or whole new content (after), the
// leftover temporary file is never read, and the next save removes it.
func TestSaveCacheCrash(t *testing.T) {
	s1 := testSnapshot(t, testPeers(), testTLS())
	s2 := nextSnapshot(t, s1, testPeers()[1:], testT1.Add(time.Minute))
	s3 := nextSnapshot(t, s2, testPeers()[:2], testT1.Add(2*time.Minute))
	for step := range numSaveSteps {
		for _, withOld := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/old=%v", step, withOld), func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "peers.cache")
				if withOld {
					mustSave(t, path, s1)
				}
				var tmp string
				err := saveCache(path, testKey(), s2, func(at saveStep, tempPath string) error {
					if at != step {
						return nil
					}
					tmp = tempPath
					// What the disk kept of an unsynced file is any
					// prefix of it: keep half.
					if at < stepSync {
						if fi, err := os.Stat(tempPath); err == nil {
							os.Truncate(tempPath, fi.Size()/2)
						}
					}
					return errCrash
				})
				if !errors.Is(err, errCrash) {
					t.Fatalf("saveCache = %v, want the injected crash", err)
				}

				got, err := LoadCache(path, testKey(), testTLS())
				switch {
				case step >= stepRename:
					if err != nil {
						t.Fatalf("after a crash past the rename: %v; want the new file", err)
					}
					if err := sameContent(got, s2); err != nil {
						t.Fatalf("after a crash past the rename: %v", err)
					}
				case withOld:
					if err != nil {
						t.Fatalf("after a crash before the rename: %v; want the old file", err)
					}
					if err := sameContent(got, s1); err != nil {
						t.Fatalf("after a crash before the rename: %v", err)
					}
				default:
					if !errors.Is(err, ErrNoCache) {
						t.Fatalf("after a crash before the first rename: %v, %v; want ErrNoCache", got, err)
					}
				}

				left := tempFiles(t, dir)
				if step < stepRename {
					if len(left) != 1 || filepath.Join(dir, left[0]) != tmp {
						t.Errorf("temporary files %v, want the crashed one %s", left, tmp)
					}
				} else if len(left) > 0 {
					t.Errorf("temporary files %v after the rename", left)
				}

				mustSave(t, path, s3)
				if left := tempFiles(t, dir); len(left) > 0 {
					t.Errorf("the next save left temporary files %v", left)
				}
				got, err = LoadCache(path, testKey(), testTLS())
				if err != nil {
					t.Fatal(err)
				}
				if err := sameContent(got, s3); err != nil {
					t.Fatalf("after the next save: %v", err)
				}
			})
		}
	}
}

// TestSaveCacheRemovesOnlyItsTempFiles: the clean-up takes leftovers of this
// cache file and nothing else in the directory.
func TestSaveCacheRemovesOnlyItsTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "peers.cache")
	ours := []string{
		tempPrefix + "peers.cache-0123456789abcdef" + tempSuffix,
		tempPrefix + "peers.cache-ffffffffffffffff" + tempSuffix,
	}
	others := []string{
		tempPrefix + "other.cache-0123456789abcdef" + tempSuffix,
		tempPrefix + "peers.cache-x-0123456789abcdef" + tempSuffix,
		tempPrefix + "peers.cache-0123456789abcde" + tempSuffix,
		tempPrefix + "peers.cache-0123456789abcdef.tmp.keep",
		"peers.cache.bak",
		"notes.txt",
	}
	for _, name := range append(slices.Clone(ours), others...) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mustSave(t, path, testSnapshot(t, testPeers(), testTLS()))
	for _, name := range ours {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed: %v", name, err)
		}
	}
	for _, name := range others {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// killChildEnv makes the test binary the writer that TestCacheKillDuringSave
// kills: it saves two snapshots in turn at the path given, forever, and
// prints a line after each save.
const killChildEnv = "JOINHINTD_TEST_CACHE_WRITER"

// TestCacheKillDuringSave kills a process that saves the cache in a loop
// with SIGKILL at random points, and then loads what it left: always one of
// the two snapshots it was writing, whole.
func TestCacheKillDuringSave(t *testing.T) {
	snaps := func(t testing.TB) [2]*Snapshot {
		a := testSnapshot(t, benchPeers(200), testTLS())
		b := nextSnapshot(t, a, benchPeers(150), testT1.Add(time.Minute))
		return [2]*Snapshot{a, b}
	}
	if path := os.Getenv(killChildEnv); path != "" {
		s := snaps(t)
		w := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			if err := SaveCache(path, testKey(), s[i%2]); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(w, i)
			w.Flush()
		}
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	s := snaps(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "peers.cache")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	loaded, midSave := 0, 0
	saved := false // a save is known to have completed
	for run := range 12 {
		cmd := exec.Command(exe, "-test.run=^TestCacheKillDuringSave$", "-test.count=1")
		cmd.Env = append(os.Environ(), killChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it finish a few saves, then kill it wherever it is.
		saves := rng.IntN(4)
		sc := bufio.NewScanner(out)
		for range saves {
			if !sc.Scan() {
				cmd.Wait()
				t.Fatalf("writer stopped early: %v", sc.Err())
			}
		}
		saved = saved || saves > 0
		time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()

		if len(tempFiles(t, dir)) > 0 {
			midSave++
		}
		got, err := LoadCache(path, testKey(), testTLS())
		switch {
		case errors.Is(err, ErrNoCache) && !saved:
			// Killed before the first rename.
		case err != nil:
			t.Fatalf("run %d, killed after %d saves: %v", run, saves, err)
		case sameContent(got, s[0]) == nil || sameContent(got, s[1]) == nil:
			loaded++
		default:
			t.Fatalf("run %d: loaded revision %d with %d peers: neither snapshot", run, got.Revision, len(got.Peers))
		}
	}
	t.Logf("of 12 kills, %d left a cache that loads and %d a temporary file (killed mid-save)", loaded, midSave)
	mustSave(t, path, s[0])
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("the save after the kills left %v", left)
	}
}

// FuzzLoadCache feeds LoadCache arbitrary files: it never panics, and it
// either refuses a file as invalid or foreign, or returns a Snapshot that
// passes every check and survives a save and load. Each input is also tried
// with a valid checksum, so the fuzzer reaches the decoder and the checks
// behind it.
func FuzzLoadCache(f *testing.F) {
	// Small seeds keep the minimization of new inputs short.
	good, err := encodeCache(testKey(), testSnapshot(f, testPeers()[2:3], testTLS()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	// One file, rewritten for each input: a worker runs them one at a time.
	path := filepath.Join(f.TempDir(), "peers.cache")
	f.Fuzz(func(t *testing.T, data []byte) {
		resealed := data
		if len(data) >= sealLen {
			resealed = data[:len(data)-sealLen]
		}
		for i, in := range [][]byte{data, seal(resealed)} {
			var snap *Snapshot
			var err error
			if i == 0 {
				if err := os.WriteFile(path, in, 0o600); err != nil {
					t.Fatal(err)
				}
				snap, err = LoadCache(path, testKey(), testTLS())
			} else {
				// LoadCache without the file, which the first pass covers.
				snap, err = decodeCache(in, testKey(), testTLS())
			}
			if err != nil {
				if snap != nil || !(errors.Is(err, ErrCacheInvalid) || errors.Is(err, ErrCacheForeign)) {
					t.Fatalf("LoadCache = %v, %v; want nil and ErrCacheInvalid or ErrCacheForeign", snap, err)
				}
				continue
			}
			if snap.Source != SourceCache || snap.Region != testKey().Region {
				t.Fatalf("source %q region %q", snap.Source, snap.Region)
			}
			if err := checkCacheContent(snap.Revision, snap.UpdatedAt, snap.ChangedAt, snap.Peers); err != nil {
				t.Fatalf("loaded an invalid peer set: %v", err)
			}
			// What loads can be saved again and reads back the same
			// (in memory: SaveCache adds only the file handling).
			again, err := encodeCache(testKey(), snap)
			if err != nil {
				t.Fatalf("encodeCache of a loaded snapshot: %v", err)
			}
			back, err := decodeCache(again, testKey(), testTLS())
			if err != nil {
				t.Fatalf("decodeCache after encodeCache: %v", err)
			}
			if err := sameContent(back, snap); err != nil {
				t.Fatalf("save and load changed the snapshot: %v", err)
			}
		}
	})
}

// fuzzSeeds are FuzzLoadCache's committed seed corpus: a good file and
// typical damage to it.
func fuzzSeeds(t testing.TB) map[string][]byte {
	snap := testSnapshot(t, testPeers()[2:3], testTLS())
	good, err := encodeCache(testKey(), snap)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x04
	foreign, err := encodeCache(CacheKey{Region: "cn-hangzhou", Filter: "other"}, snap)
	if err != nil {
		t.Fatal(err)
	}
	duplicate := cacheFileOf(snap)
	duplicate.Peers = append(duplicate.Peers, duplicate.Peers[0])
	newer := cacheFileOf(snap)
	newer.Version = 2
	return map[string][]byte{
		"good":      good,
		"truncated": good[:len(good)*2/3],
		"flipped":   flipped,
		"foreign":   foreign,
		"duplicate": encodeTestCache(t, duplicate),
		"version-2": encodeTestCache(t, newer),
		"empty":     {},
		"not-json":  []byte("\x00\xff{[\"sha256\": \"\n}\n"),
	}
}

// TestFuzzLoadCacheSeeds keeps the committed seed corpus in step with the
// format (go test -update rewrites it) and checks the good seed loads.
func TestFuzzLoadCacheSeeds(t *testing.T) {
	for name, data := range fuzzSeeds(t) {
		file := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
		checkGolden(t, filepath.Join("testdata", "fuzz", "FuzzLoadCache", name), []byte(file))
		_, err := decodeCache(data, testKey(), testTLS())
		if (err == nil) != (name == "good") {
			t.Errorf("seed %s: %v", name, err)
		}
	}
}

// BenchmarkLoadCache loads a cache of 1,000 peers, as a restart does before
// it serves.
func BenchmarkLoadCache(b *testing.B) {
	path := filepath.Join(b.TempDir(), "peers.cache")
	snap := testSnapshot(b, benchPeers(1000), testTLS())
	mustSave(b, path, snap)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size()), "file-bytes")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := LoadCache(path, testKey(), testTLS()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveCache saves a cache of 1,000 peers, fsyncs included.
func BenchmarkSaveCache(b *testing.B) {
	path := filepath.Join(b.TempDir(), "peers.cache")
	snap := testSnapshot(b, benchPeers(1000), testTLS())
	b.ReportAllocs()
	for b.Loop() {
		mustSave(b, path, snap)
	}
}

package daemon

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"
)

// FuzzHandlerQuery: whatever the query string, /v1/ answers 200 exactly when
// it is one known format parameter (or none), else 400 with a JSON error;
// never a panic, never another status.
func FuzzHandlerQuery(f *testing.F) {
	for _, q := range []string{"", "format=json", "format=text", "format=go-discover", "format=hcl", "format=xml",
		"format=json&format=json", "index=3", "format=%zz", "%", "format=json&", "&&format=text", "format=JSON", "format="} {
		f.Add(q)
	}
	store := &Store{}
	snap, _, err := NewSnapshot(nil, []Peer{{InstanceID: "i-1", Address: "10.0.0.1"}}, "cn-hangzhou", SourceECS, time.Now(), RenderOptions{})
	if err != nil {
		f.Fatal(err)
	}
	store.Publish(snap)
	h := NewHandler(ServerOptions{Store: store, MaxStale: time.Hour})
	formats := map[string][]string{PathPeers: {"json", "text", "go-discover"}, PathRetryJoin: {"hcl", "json"}}
	f.Fuzz(func(t *testing.T, q string) {
		for path, known := range formats {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.URL.RawQuery = q
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := http.StatusBadRequest
			if v, err := url.ParseQuery(q); err == nil {
				if len(v) == 0 || (len(v) == 1 && len(v["format"]) == 1 && slices.Contains(known, v.Get("format"))) {
					want = http.StatusOK
				}
			}
			if rec.Code != want {
				t.Fatalf("%s?%s: %d, want %d (%s)", path, q, rec.Code, want, rec.Body.String())
			}
			if rec.Code == http.StatusBadRequest {
				var e struct{ Error string }
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
					t.Fatalf("%s?%s: error body %q", path, q, rec.Body.String())
				}
			}
		}
	})
}
